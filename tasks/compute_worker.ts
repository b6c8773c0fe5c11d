/**
 * The Worker entry point of the compute pool: runs each task it is sent with
 * {@linkcode callTask} and posts the reply back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { WorkerTask } from "../lib/pools/worker_pool.ts";
import { callTask, unsendable } from "./call_task.ts";

self.onmessage = async (event: MessageEvent<WorkerTask & { id: number }>) => {
  const { id, ...task } = event.data;
  const reply = await callTask(id, task);
  try {
    self.postMessage(reply);
  } catch (error) {
    self.postMessage(unsendable(id, error));
  }
};
