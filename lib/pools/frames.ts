/**
 * Messages between taskpool and its host processes, over a byte stream (a child's stdin and
 * stdout): each frame is a 4-byte big-endian length and a V8 structured-clone body, so the same
 * values cross as to a Worker (Uint8Array, Map, Date, nested objects).
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { concatBytes } from "../bytes.ts";

/** The largest frame accepted: a bigger length means the stream is not ours (stray output). */
export const MAX_FRAME_BYTES = 512 * 2 ** 20;

/** A stream that did not carry well-formed frames. */
export class FrameError extends Error {
  override name = "FrameError";
}

/**
 * One frame's bytes for `value`.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frames.ts";
 * const frame = encodeFrame({ id: 1 });
 * console.assert(new DataView(frame.buffer).getUint32(0) === frame.byteLength - 4);
 * ```
 */
export function encodeFrame(value: unknown): Uint8Array<ArrayBuffer> {
  const body = serialize(value);
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  return frame;
}

/**
 * The values framed in `stream`, in order; ends when the stream does.
 *
 * @throws {FrameError} on a frame over {@linkcode MAX_FRAME_BYTES}, an undecodable body, or a
 * stream that ends inside a frame
 */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    pending = pending.byteLength === 0 ? chunk : concatBytes([pending, chunk]);
    for (;;) {
      if (pending.byteLength < 4) break;
      const length = new DataView(pending.buffer, pending.byteOffset).getUint32(0);
      if (length > MAX_FRAME_BYTES) {
        throw new FrameError(`a frame of ${length} bytes: not a taskpool message (stray output?)`);
      }
      if (pending.byteLength < 4 + length) break;
      const body = pending.subarray(4, 4 + length);
      pending = pending.subarray(4 + length);
      try {
        yield deserialize(body);
      } catch (error) {
        throw new FrameError(`an undecodable frame: ${(error as Error).message}`);
      }
    }
  }
  if (pending.byteLength > 0) throw new FrameError("the stream ended inside a frame");
}
