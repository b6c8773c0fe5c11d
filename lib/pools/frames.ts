/**
 * Messages between taskpool and its host processes, over a byte stream (a child's stdin and
 * stdout): each frame is a 4-byte big-endian length and a body, so the same values cross as to a
 * Worker (Uint8Array, Map, Date, nested objects). A value that JSON carries exactly (plain objects
 * and arrays of strings, finite numbers, booleans and null: most messages) goes as JSON text,
 * which costs a fraction of `node:v8`'s serializer; anything else as a V8 structured clone, whose
 * first byte (0xFF, the version tag) tells the two apart.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { concatBytes } from "../util/bytes.ts";
import { jsonFrame } from "./json_frame.ts";
import { ComputeError } from "./compute_error.ts";

/** The largest frame accepted: a bigger length means the stream is not ours (stray output). */
export const MAX_FRAME_BYTES = 512 * 2 ** 20;

/** The first byte of a V8 structured clone; no JSON text starts with it. */
const V8_VERSION_TAG = 0xff;

const decoder = new TextDecoder();

/** A stream that did not carry well-formed frames. */
export class FrameError extends Error {
  override name = "FrameError";
}

/**
 * One frame's bytes for `value`: JSON when that gives it back exactly, else a structured clone.
 * With `dropUndefined`, properties whose value is undefined may be left out (JSON's way), for a
 * reader to whom absent and undefined mean the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame } from "./frames.ts";
 * const frame = encodeFrame({ id: 1 });
 * assert(new DataView(frame.buffer).getUint32(0) === frame.byteLength - 4);
 * ```
 */
export function encodeFrame(
  value: unknown,
  options: { dropUndefined?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  return jsonFrame(value, options) ?? frameOfBody([serialize(value)]);
}

/**
 * One frame whose body is `parts` joined: a body already encoded (JSON text, say), sent on
 * without decoding it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameOfBody } from "./frames.ts";
 * const text = new TextEncoder();
 * const frame = frameOfBody([text.encode('{"a":'), text.encode("1}")]);
 * assert(new DataView(frame.buffer).getUint32(0) === 7);
 * ```
 */
export function frameOfBody(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const frame = new Uint8Array(4 + length);
  new DataView(frame.buffer).setUint32(0, length);
  let at = 4;
  for (const part of parts) {
    frame.set(part, at);
    at += part.byteLength;
  }
  return frame;
}

/**
 * Where frames come from: a stream (a child's stdout), or a reader such as `Deno.stdin`, read
 * with no stream in between (a host's stdin, on the path of every task).
 */
export type FrameSource = ReadableStream<Uint8Array> | {
  read(into: Uint8Array): Promise<number | null>;
};

/** The read buffer for a reader source. */
const READ_BYTES = 64 * 1024;

/**
 * The chunks of `source`. A reader's chunks are views of one buffer, valid until the next chunk
 * is asked for.
 */
async function* chunksOf(source: FrameSource): AsyncGenerator<Uint8Array> {
  if (source instanceof ReadableStream) return yield* source;
  const buffer = new Uint8Array(READ_BYTES);
  for (;;) {
    const n = await source.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * The values framed in `source`, in order; ends when it does.
 *
 * @throws {FrameError} on a frame over {@linkcode MAX_FRAME_BYTES}, an undecodable body, or a
 * source that ends inside a frame
 */
export async function* readFrames(source: FrameSource): AsyncGenerator<unknown> {
  for await (const values of readFrameBatches(source)) yield* values;
}

/**
 * The values framed in `source`, a batch per read: every frame that one read completed, so a
 * reader can act on them together (one write, one post) before it reads again.
 *
 * @throws {FrameError} as {@linkcode readFrames} does
 */
export async function* readFrameBatches(source: FrameSource): AsyncGenerator<unknown[]> {
  let pending: Uint8Array = new Uint8Array(0);
  // A frame longer than the bytes at hand, filled in place as they come: joining what is
  // pending to each read would copy a 50 MB frame some 800 times over.
  let big: { body: Uint8Array; at: number } | undefined;
  for await (const chunk of chunksOf(source)) {
    const values: unknown[] = [];
    let rest = chunk;
    if (big) {
      const n = Math.min(rest.byteLength, big.body.byteLength - big.at);
      big.body.set(rest.subarray(0, n), big.at);
      big.at += n;
      rest = rest.subarray(n);
      if (big.at < big.body.byteLength) continue;
      values.push(decodeBody(big.body));
      big = undefined;
    }
    pending = pending.byteLength === 0 ? rest : concatBytes([pending, rest]);
    for (;;) {
      if (pending.byteLength < 4) break;
      const length = new DataView(pending.buffer, pending.byteOffset).getUint32(0);
      if (length > MAX_FRAME_BYTES) {
        throw new FrameError(`a frame of ${length} bytes: not a taskpool message (stray output?)`);
      }
      if (pending.byteLength < 4 + length) {
        if (length > READ_BYTES) {
          big = { body: new Uint8Array(length), at: pending.byteLength - 4 };
          big.body.set(pending.subarray(4));
          pending = new Uint8Array(0);
        }
        break;
      }
      const body = pending.subarray(4, 4 + length);
      pending = pending.subarray(4 + length);
      values.push(decodeBody(body));
    }
    if (pending.byteLength > 0 && pending.buffer === chunk.buffer) pending = pending.slice();
    if (values.length > 0) yield values;
  }
  if (pending.byteLength > 0 || big) throw new FrameError("the stream ended inside a frame");
}

/** The value a frame's body carries. */
function decodeBody(body: Uint8Array): unknown {
  try {
    return body[0] === V8_VERSION_TAG ? deserialize(body) : JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new FrameError(`an undecodable frame: ${(error as Error).message}`);
  }
}

/**
 * The frame carrying `message` (a task and its id) to a host.
 *
 * @throws {ComputeError} when the arguments cannot be structured-cloned (a function, say); the
 * message names the `destination` ("a Worker", "a process")
 */
export function encodeTaskFrame(message: unknown, destination: string): Uint8Array {
  try {
    return encodeFrame(message);
  } catch (error) {
    throw new ComputeError(
      `arguments cannot be sent to ${destination}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
