/**
 * The Worker entry point of the compute pool: runs each task it is sent with
 * {@linkcode callTask} and posts the reply back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { WorkerTask } from "../lib/pools/worker_pool.ts";
import { callTask } from "./call_task.ts";

self.onmessage = async (event: MessageEvent<WorkerTask & { id: number }>) => {
  const { id, ...task } = event.data;
  self.postMessage(await callTask(id, task));
};
