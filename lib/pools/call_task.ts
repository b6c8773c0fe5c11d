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
      throw new TypeError(missingExport(moduleUrl, exportName, module));
    }
    value = fn(...args, context);
    // Asked inside the try: a result's `then` getter (a Proxy's trap) may throw.
    if (!isThenable(value)) return settled(id, value);
  } catch (error) {
    return { id, ok: false, error: errorShape(error) };
  }
  return Promise.resolve(value).then(
    (value) => settled(id, value),
    (error) => ({ id, ok: false, error: errorShape(error) }),
  );
}

/** Why `module` has no function `exportName`: what it is instead, or the functions it has. */
function missingExport(moduleUrl: string, exportName: string, module: Record<string, unknown>) {
  const found = module[exportName];
  if (found !== undefined) {
    const what = found === null ? "null" : Array.isArray(found) ? "an array" : `a ${typeof found}`;
    return `${moduleUrl} exports "${exportName}" as ${what}, not a function`;
  }
  const functions = Object.keys(module).filter((name) => typeof module[name] === "function");
  const has = functions.length === 0
    ? "it exports no function"
    : `it exports ${functions.slice(0, 10).map((name) => `"${name}"`).join(", ")}${
      functions.length > 10 ? ", ..." : ""
    }`;
  return `${moduleUrl} has no exported function "${exportName}" (${has})`;
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
  if (error instanceof Error) {
    const { name, message, stack } = error;
    return { name, message, ...(stack ? { stack } : {}) };
  }
  return { name: "Error", message: thrownMessage(error) };
}

/**
 * What a thrown value that is not an Error says: its `message` if it has one (an error of
 * another realm), else its JSON (`{"code":42}`), else its string form (`null`).
 */
function thrownMessage(thrown: unknown): string {
  const message = (thrown as { message?: unknown } | null)?.message;
  if (typeof message === "string") return message;
  if (typeof thrown === "object" && thrown !== null) {
    try {
      const text = JSON.stringify(thrown);
      if (text !== undefined) return text;
    } catch { /* circular: its string form below */ }
  }
  return String(thrown);
}

/**
 * The value as it will appear in the JSON report, or bytes (a Uint8Array, or an ArrayBuffer or a
 * SharedArrayBuffer made one) for taskpool to write to the job's `to`; throws if it has neither form, or if its JSON
 * would lose what it holds (a Map, a Set, an Error..., whose JSON is `{}`).
 */
function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof SharedArrayBuffer) return new Uint8Array(value).slice();
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`the result has no JSON form: ${unserializable(error)}`);
  }
  if (text === undefined) {
    throw new TypeError(`the result has no JSON form: it is a ${typeof value}`);
  }
  const depth = nestingOf(text);
  if (depth > MOST_RESULT_DEPTH) {
    throw new TypeError(
      `the result is nested ${depth} levels deep (arrays or objects within each other), more ` +
        `than ${MOST_RESULT_DEPTH}: return it flatter, or its JSON text as a string`,
    );
  }
  // Only a text with an empty object can hide what JSON drops: the rest needs no second look.
  if (text.includes("{}")) JSON.stringify(value, refuseWhatJsonDrops);
  return JSON.parse(text);
}

/**
 * The deepest nesting a result may have. Deeper ones overflow the stack of the structured clone
 * that carries them to taskpool (about 4,000 levels on the main thread, fewer in a Worker).
 */
const MOST_RESULT_DEPTH = 1000;

/** How deep arrays and objects nest in a JSON text: a scan that skips strings. */
function nestingOf(text: string): number {
  // Nesting needs two characters a level: a short text cannot be too deep.
  if (text.length <= 2 * MOST_RESULT_DEPTH) return 0;
  let depth = 0;
  let most = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) i = closingQuote(text, i);
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > most) most = depth;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return most;
}

/** Where the string that opens at `open` in a JSON text ends: its first unescaped quote. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1);; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

/** Why `JSON.stringify` threw, in a user's words. */
function unserializable(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/BigInt/i.test(message)) return "it holds a bigint (return it as a string or a number)";
  if (/circular/i.test(message)) return "it refers to itself (a circular structure)";
  return message;
}

/**
 * A `JSON.stringify` replacer that throws at an object JSON would write as `{}` though it holds
 * something: a Map, a Set, an ArrayBuffer, an Error, a generator, a Promise, ... (an instance of
 * a class, with no own enumerable property and no `toJSON`). A plain `{}` passes.
 */
function refuseWhatJsonDrops(key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  if (Object.keys(value).length > 0) return value;
  const name = prototype.constructor?.name ||
    Object.prototype.toString.call(value).slice(8, -1); // "[object AsyncGenerator]"
  const what = `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
  const where = key === "" ? "" : ` (at key ${JSON.stringify(key)})`;
  const hint = value instanceof Map
    ? "; return Object.fromEntries(map)"
    : value instanceof Set
    ? "; return [...set]"
    : value instanceof ArrayBuffer || value instanceof SharedArrayBuffer
    ? "; return it alone, as bytes, with compute.to"
    : isThenable(value) || Symbol.asyncIterator in value || Symbol.iterator in value
    ? "; return what it yields or resolves to"
    : "";
  throw new TypeError(
    `the result has no JSON form: it holds ${what}${where}, which JSON writes as {}${hint}`,
  );
}
