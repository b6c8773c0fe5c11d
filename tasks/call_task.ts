/**
 * Calling one compute task where it runs (a Worker, or a host process): import the module once
 * (the runtime caches it), call the named export as `fn(...args, context)`, and turn the outcome
 * into a reply that can be posted back.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { ComputeTask, TaskErrorShape, TaskReply } from "../lib/pools/task.ts";

/**
 * Runs `task` and answers for task `id`; never throws. A value is sent back in its JSON form,
 * so the reply can always be posted or framed. The function is called from `setImmediate`, so
 * its synchronous part runs outside any microtask: on Deno 2.9.6 a `node:worker_threads` thread
 * that exhausts its heap inside a microtask (or a message handler) stalls instead of ending with
 * an error. (`setTimeout` would do too, but its nesting clamp costs 4 ms a task.)
 *
 * @example
 * ```ts
 * import { callTask } from "./call_task.ts";
 * const moduleUrl = new URL("./builtin/count.ts", import.meta.url).href;
 * const reply = await callTask(1, { moduleUrl, exportName: "default", args: [3], context: {} });
 * console.assert(reply.ok && reply.value === 3);
 * ```
 */
export async function callTask(id: number, task: ComputeTask): Promise<TaskReply> {
  const { moduleUrl, exportName, args, context } = task;
  try {
    const module = await import(moduleUrl);
    const fn = module[exportName];
    if (typeof fn !== "function") {
      throw new TypeError(`${moduleUrl} has no exported function "${exportName}"`);
    }
    const value = await new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(fn(...args, context));
        } catch (error) {
          reject(error);
        }
      });
    });
    return { id, ok: true, value: toJsonValue(value) };
  } catch (error) {
    return { id, ok: false, error: errorShape(error) };
  }
}

function errorShape(error: unknown): TaskErrorShape {
  const { name = "Error", message = String(error), stack } = error instanceof Error ? error : {};
  return { name, message, ...(stack ? { stack } : {}) };
}

/**
 * The value as it will appear in the JSON report, or bytes (a Uint8Array, or an ArrayBuffer made
 * one) for taskpool to write to the job's `to`; throws if it has neither form.
 */
function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`the result has no JSON form: ${typeof value}`);
  return JSON.parse(text);
}
