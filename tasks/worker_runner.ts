/**
 * Where a compute task runs in `isolation: worker`: a `node:worker_threads` thread of the
 * {@linkcode ./worker_host.ts | Worker host}, with the host's (the job's) permissions and its own
 * heap cap (`resourceLimits`): running out of heap ends this thread alone, and `Deno.exit` ends it
 * with its code, both seen by the host.
 *
 * Tasks arrive one at a time on a message port; each reply goes back the same way. An error thrown outside a task's
 * call (in a timer, say) is reported as the thread's death under the current task, and the host
 * retires the thread.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { ComputeTask } from "../lib/pools/task.ts";
import { callTask } from "./call_task.ts";
import { consoleToStderr } from "./console_to_stderr.ts";

consoleToStderr();

let current = 0;
let port: MessagePort | undefined;

function died(error: unknown): void {
  const { message = String(error), stack } = error instanceof Error ? error : {};
  port?.postMessage({ id: current, died: "error", message, ...(stack ? { stack } : {}) });
}

globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  died(event.error);
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  died(event.reason);
});

// Tasks come on a MessagePort handed over first: much quicker than the thread's own channel.
parentPort!.once("message", (message: { port: MessagePort }) => {
  const taskPort = port = message.port;
  taskPort.onmessage = async (event: MessageEvent<ComputeTask & { id: number }>) => {
    const { id, ...task } = event.data;
    current = id;
    taskPort.postMessage(await callTask(id, task));
  };
});
