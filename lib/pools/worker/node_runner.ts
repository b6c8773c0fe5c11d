/**
 * The entry of a runner thread that is a `node:worker_threads` Worker (one with a heap cap; see
 * {@linkcode ./runner_thread.ts}): a {@linkcode startRunner | runner} whose setup comes through
 * `parentPort`. Tasks run from `setImmediate`: out of heap inside a message handler, such a
 * thread would stall instead of ending (Deno 2.9.6).
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { parentPort } from "node:worker_threads";
import { startRunner } from "./runner_loop.ts";

parentPort!.once("message", startRunner(setImmediate));
