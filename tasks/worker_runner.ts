/**
 * Where a compute task runs in `isolation: worker`: a `node:worker_threads` thread of the
 * {@linkcode ./worker_host.ts | Worker host}, with the host's (the job's) permissions and its own
 * heap cap (`resourceLimits`): running out of heap ends this thread alone, and `Deno.exit` ends it
 * with its code, both seen by the host.
 *
 * Tasks arrive on a message port, a batch at a time, and run one after another in the order they
 * came; each reply goes back the same way the moment its task ends, so the thread never waits
 * for a round trip to the host between two tasks. Before a task starts, the thread claims it in
 * the task states it shares with the host (slot `slot`: `id` becomes `-id`); a task the host took
 * back meanwhile (the slot no longer holds `id`) is skipped. The claim happens as the previous
 * reply is posted, with no event in between, so the host may count a task as started once the
 * reply before it has come.
 * An error thrown outside a task's call (in a timer, say) is reported as the thread's death
 * under the current task, and the host retires the thread.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { RunnerReply, RunnerTask } from "../lib/pools/worker_pool.ts";
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
parentPort!.once("message", (message: { port: MessagePort; states: SharedArrayBuffer }) => {
  const taskPort = port = message.port;
  const states = new Int32Array(message.states);
  const queue: RunnerTask[] = [];
  let running = false;
  const reply = (message: RunnerReply) => taskPort.postMessage(message);
  const runQueue = async () => {
    running = true;
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { id, slot, ...task } = next;
      if (Atomics.compareExchange(states, slot, id, -id) !== id) continue; // taken back
      current = id;
      reply(await callTask(id, task));
    }
    running = false;
  };
  taskPort.onmessage = (event: MessageEvent<RunnerTask[]>) => {
    queue.push(...event.data);
    if (!running) void runQueue();
  };
});
