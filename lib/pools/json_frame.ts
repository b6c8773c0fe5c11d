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
  const seen = { longest: 0 };
  if (!isJsonExact(value, 0, options.dropUndefined ?? false, seen)) return undefined;
  if (seen.longest >= LONG_ARRAY) return piecewiseFrame(value);
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
 * Arrays from this length on (a plan of hundreds of thousands of jobs) make a frame piece by
 * piece. Below it one text is cheaper: the pieces, made twice, leave more garbage than the text.
 */
const LONG_ARRAY = 200_000;

/** Elements of a long array stringified at a time. */
const ELEMENTS_PER_PIECE = 1000;

/**
 * The frame of `value`, whose JSON text is never whole in memory: its pieces are made twice, once
 * to count the frame's bytes and once to write them into it. For a plan of a million URLs the
 * launcher's peak is then 1.09 GB rather than 1.17.
 */
function piecewiseFrame(value: unknown): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const piece of jsonPieces(value)) length += utf8Length(piece);
  const frame = new Uint8Array(4 + length);
  new DataView(frame.buffer).setUint32(0, length);
  let at = 4;
  for (const piece of jsonPieces(value)) {
    at += encoder.encodeInto(piece, frame.subarray(at)).written;
  }
  return frame;
}

/**
 * `JSON.stringify(value)` in pieces: long arrays a slice at a time. For values `isJsonExact`
 * passed: plain objects and arrays, properties whose value is undefined left out.
 */
function* jsonPieces(value: unknown): Generator<string> {
  if (Array.isArray(value) && value.length >= LONG_ARRAY) {
    yield "[";
    for (let start = 0; start < value.length; start += ELEMENTS_PER_PIECE) {
      const slice = JSON.stringify(value.slice(start, start + ELEMENTS_PER_PIECE));
      yield `${start === 0 ? "" : ","}${slice.slice(1, -1)}`;
    }
    yield "]";
  } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    yield "{";
    let first = true;
    for (const [key, property] of Object.entries(value)) {
      if (property === undefined) continue;
      yield `${first ? "" : ","}${JSON.stringify(key)}:`;
      first = false;
      yield* jsonPieces(property);
    }
    yield "}";
  } else {
    yield JSON.stringify(value);
  }
}

/** The bytes of `text` in UTF-8. */
function utf8Length(text: string): number {
  // deno-lint-ignore no-control-regex
  return /[^\x00-\x7f]/.test(text) ? encoder.encode(text).byteLength : text.length;
}

/**
 * Whether JSON gives `value` back exactly as a structured clone would: no undefined (JSON drops
 * it), no -0, NaN or Infinity, no class instance, typed array, Map, Date or array hole.
 */
function isJsonExact(
  value: unknown,
  depth: number,
  dropUndefined: boolean,
  seen: { longest: number },
): boolean {
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
        seen.longest = Math.max(seen.longest, value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isJsonExact(value[i], depth + 1, dropUndefined, seen)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        const property = (value as Record<string, unknown>)[key];
        if (property === undefined && dropUndefined) continue;
        if (!isJsonExact(property, depth + 1, dropUndefined, seen)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
