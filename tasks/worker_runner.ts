/**
 * Where a compute task runs in `isolation: worker`: a `node:worker_threads` thread of the
 * {@linkcode ./worker_host.ts | Worker host}, with the host's (the job's) permissions and its own
 * heap cap (`resourceLimits`): running out of heap ends this thread alone, and `Deno.exit` ends it
 * with its code, both seen by the host.
 *
 * Tasks arrive one at a time; each reply goes back the same way. An error thrown outside a task's
 * call (in a timer, say) is reported as the thread's death under the current task, and the host
 * retires the thread.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { ComputeTask } from "../lib/pools/task.ts";
import { callTask } from "./call_task.ts";

// The host's stdout carries taskpool's frames: console output goes to stderr.
for (const name of ["log", "info", "debug", "dir", "table"] as const) {
  console[name] = console.error.bind(console);
}

const port = parentPort!;
let current = 0;

function died(error: unknown): void {
  const { message = String(error), stack } = error instanceof Error ? error : {};
  port.postMessage({ id: current, died: "error", message, ...(stack ? { stack } : {}) });
}

globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  died(event.error);
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  died(event.reason);
});

port.on("message", async (message: ComputeTask & { id: number }) => {
  const { id, ...task } = message;
  current = id;
  port.postMessage(await callTask(id, task));
});
