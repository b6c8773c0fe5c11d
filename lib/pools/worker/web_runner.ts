/**
 * The entry of a runner thread that is a web Worker (no heap cap; see
 * {@linkcode ./runner_thread.ts}): a {@linkcode startRunner | runner} whose setup comes as the
 * thread's first message. It loads no `node:` module, which would cost a fifth of its start.
 *
 * @module
 */
import { channelImmediate } from "./immediate.ts";
import { startRunner } from "./runner_loop.ts";
import type { RunnerSetup } from "../protocol.ts";

const begin = startRunner(channelImmediate());
globalThis.addEventListener(
  "message",
  (event) => begin((event as MessageEvent<RunnerSetup>).data),
  { once: true },
);
