/**
 * The Worker entry point of the compute pool: imports a module once (Deno caches it), calls
 * the named export as `fn(...args, context)` and replies with the value or the error.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { WorkerReply, WorkerTask } from "../lib/pools/worker_pool.ts";

self.onmessage = async (event: MessageEvent<WorkerTask & { id: number }>) => {
  const { id, moduleUrl, exportName, args, context } = event.data;
  let reply: WorkerReply;
  try {
    const module = await import(moduleUrl);
    const fn = module[exportName];
    if (typeof fn !== "function") {
      throw new TypeError(`${moduleUrl} has no exported function "${exportName}"`);
    }
    const value = await fn(...args, context);
    reply = { id, ok: true, value: toJsonValue(value) };
  } catch (error) {
    const { name = "Error", message = String(error), stack } = error instanceof Error ? error : {};
    reply = { id, ok: false, error: { name, message, ...(stack ? { stack } : {}) } };
  }
  try {
    self.postMessage(reply);
  } catch (error) {
    self.postMessage(
      {
        id,
        ok: false,
        error: { name: "DataCloneError", message: `the result cannot be sent back: ${error}` },
      } satisfies WorkerReply,
    );
  }
};

/** The value as it will appear in the JSON report; throws if it has no JSON form. */
function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`the result has no JSON form: ${typeof value}`);
  return JSON.parse(text);
}
