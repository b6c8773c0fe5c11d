/**
 * Calling one compute task where it runs (a Worker, or a host process): import the module once
 * (the runtime caches it), call the named export as `fn(...args, context)`, and turn the outcome
 * into a reply that can be posted back.
 *
 * @module
 */
import type { WorkerReply, WorkerTask } from "../lib/pools/worker_pool.ts";

/**
 * Runs `task` and answers for task `id`; never throws. A value is sent back in its JSON form,
 * so the reply can always be posted or framed.
 *
 * @example
 * ```ts
 * import { callTask } from "./call_task.ts";
 * const moduleUrl = new URL("./builtin/count.ts", import.meta.url).href;
 * const reply = await callTask(1, { moduleUrl, exportName: "default", args: [3], context: {} });
 * console.assert(reply.ok && reply.value === 3);
 * ```
 */
export async function callTask(id: number, task: WorkerTask): Promise<WorkerReply> {
  const { moduleUrl, exportName, args, context } = task;
  try {
    const module = await import(moduleUrl);
    const fn = module[exportName];
    if (typeof fn !== "function") {
      throw new TypeError(`${moduleUrl} has no exported function "${exportName}"`);
    }
    const value = await fn(...args, context);
    return { id, ok: true, value: toJsonValue(value) };
  } catch (error) {
    return { id, ok: false, error: errorShape(error) };
  }
}

function errorShape(error: unknown): { name: string; message: string; stack?: string } {
  const { name = "Error", message = String(error), stack } = error instanceof Error ? error : {};
  return { name, message, ...(stack ? { stack } : {}) };
}

/** The value as it will appear in the JSON report; throws if it has no JSON form. */
function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`the result has no JSON form: ${typeof value}`);
  return JSON.parse(text);
}
