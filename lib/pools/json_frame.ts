/**
 * The JSON half of lib/pools/frames.ts: a frame (a 4-byte big-endian length, then the body) whose
 * body is JSON text, for a value JSON gives back exactly. It loads no `node:v8`, so a process
 * that only sends such values (the launcher handing its plan to the run) needs none of Node's
 * compatibility layer.
 *
 * @module
 */

/** Nesting beyond this goes as a structured clone (JSON would be as deep on both sides). */
const MOST_JSON_DEPTH = 32;

const encoder = new TextEncoder();

/**
 * One frame of `value` as JSON, or undefined when JSON would not give it back exactly (see
 * `encodeFrame` in frames.ts, which then sends a structured clone). With `dropUndefined`,
 * properties whose value is undefined may be left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonFrame } from "./json_frame.ts";
 * const frame = jsonFrame({ id: 1 })!;
 * assert.equal(new DataView(frame.buffer).getUint32(0), frame.byteLength - 4);
 * assert.equal(jsonFrame({ at: new Date() }), undefined);
 * const wide = jsonFrame({ name: "café 😀" })!;
 * assert.equal(new TextDecoder().decode(wide.subarray(4)), '{"name":"café 😀"}');
 * assert.equal(new DataView(wide.buffer).getUint32(0), wide.byteLength - 4);
 * ```
 */
export function jsonFrame(
  value: unknown,
  options: { dropUndefined?: boolean } = {},
): Uint8Array<ArrayBuffer> | undefined {
  if (!isJsonExact(value, 0, options.dropUndefined ?? false)) return undefined;
  const text = JSON.stringify(value);
  // Encoded in place: one copy of a large plan's text, not two. A text of one-byte characters
  // (most) fills the frame exactly; any other is encoded on its own, then copied.
  let frame = new Uint8Array(4 + text.length);
  const { read } = encoder.encodeInto(text, frame.subarray(4));
  if (read < text.length) {
    const body = encoder.encode(text);
    frame = new Uint8Array(4 + body.byteLength);
    frame.set(body, 4);
  }
  new DataView(frame.buffer).setUint32(0, frame.byteLength - 4);
  return frame;
}

/**
 * Whether JSON gives `value` back exactly as a structured clone would: no undefined (JSON drops
 * it), no -0, NaN or Infinity, no class instance, typed array, Map, Date or array hole.
 */
function isJsonExact(value: unknown, depth: number, dropUndefined: boolean): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (depth >= MOST_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isJsonExact(value[i], depth + 1, dropUndefined)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        const property = (value as Record<string, unknown>)[key];
        if (property === undefined && dropUndefined) continue;
        if (!isJsonExact(property, depth + 1, dropUndefined)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
