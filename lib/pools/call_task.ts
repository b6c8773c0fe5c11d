/**
 * Calling one compute task where it runs (a Worker, or a host process): import the module once
 * (kept here, so later calls need no await), call the named export as `fn(...args, context)`,
 * and turn the outcome into a reply that can be posted back.
 *
 * @module
 */
import type { ComputeTask, TaskErrorShape, TaskReply } from "./protocol.ts";
import type { Immediate } from "./worker/immediate.ts";

/** Modules imported so far, by URL: a call needs no `import()` (and no await) once loaded. */
const loaded = new Map<string, Record<string, unknown>>();

/**
 * Runs `task` and answers for task `id`; never throws. A value is sent back in its JSON form,
 * so the reply can always be posted or framed. The function is called from `immediate`, so its
 * synchronous part runs outside any microtask: on Deno 2.9.6 a `node:worker_threads` thread that
 * exhausts its heap inside a microtask (or a message handler) stalls instead of ending with an
 * error, so there `immediate` must be `setImmediate`. (`setTimeout` would do too, but its nesting
 * clamp costs 4 ms a task.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setImmediate } from "node:timers";
 * import { callTask } from "./call_task.ts";
 * const moduleUrl = new URL("../../tasks/compute/builtin/count.ts", import.meta.url).href;
 * const task = { moduleUrl, exportName: "default", args: [3], context: {} };
 * const reply = await callTask(1, task, setImmediate);
 * assert(reply.ok && reply.value === 3);
 * ```
 */
export async function callTask(
  id: number,
  task: ComputeTask,
  immediate: Immediate,
): Promise<TaskReply> {
  const { moduleUrl } = task;
  try {
    if (!loaded.has(moduleUrl)) loaded.set(moduleUrl, await import(moduleUrl));
  } catch (error) {
    return { id, ok: false, error: errorShape(error) };
  }
  return await new Promise((resolve) => immediate(() => resolve(callLoaded(id, task)!)));
}

/**
 * Calls `task`'s function now if its module is loaded (by an earlier {@linkcode callTask}): its
 * reply, or a promise of it for a function that returns one; `undefined` if the module is not
 * loaded yet. Call it outside any microtask, as {@linkcode callTask} does, from an immediate:
 * one immediate may then run several quick tasks in a row.
 */
export function callLoaded(
  id: number,
  task: ComputeTask,
): TaskReply | Promise<TaskReply> | undefined {
  const { moduleUrl, exportName, args, context } = task;
  const module = loaded.get(moduleUrl);
  if (!module) return undefined;
  let value: unknown;
  try {
    const fn = module[exportName];
    if (typeof fn !== "function") {
      throw new TypeError(`${moduleUrl} has no exported function "${exportName}"`);
    }
    value = fn(...args, context);
  } catch (error) {
    return { id, ok: false, error: errorShape(error) };
  }
  if (!isThenable(value)) return settled(id, value);
  return Promise.resolve(value).then(
    (value) => settled(id, value),
    (error) => ({ id, ok: false, error: errorShape(error) }),
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function settled(id: number, value: unknown): TaskReply {
  try {
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
