/**
 * Bodies that come from a `ReadableStream`: a fetch response's (the proxy path), and a body
 * decoded from its Content-Encoding (gzip, deflate) on its way from the connection.
 *
 * @module
 */
import { NetworkError, ProtocolError } from "./errors.ts";
import { type HttpBody, readAll } from "./body.ts";

/**
 * An {@linkcode HttpBody} over a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamBody } from "./stream_body.ts";
 * const body = new StreamBody(new Response("hi").body!, 2);
 * assert(new TextDecoder().decode(await body.bytes()) === "hi");
 * ```
 */
export class StreamBody implements HttpBody {
  readonly length: number | undefined;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #onChunk: ((chunk: Uint8Array) => void | Promise<void>) | undefined;

  /** `onChunk` is told of each chunk as it is read (to meter a decoded body). */
  constructor(
    stream: ReadableStream<Uint8Array>,
    length: number | undefined,
    onChunk?: (chunk: Uint8Array) => void | Promise<void>,
  ) {
    this.#reader = stream.getReader();
    this.length = length;
    this.#onChunk = onChunk;
  }

  /** What a read smaller than the stream's chunk left over. */
  #rest: Uint8Array | undefined;

  async read(most: number = Infinity): Promise<Uint8Array | null> {
    let value = this.#rest;
    this.#rest = undefined;
    if (value === undefined) {
      const next = await this.#reader.read();
      if (next.done) return null;
      value = next.value;
      await this.#onChunk?.(value);
    }
    if (value.byteLength > most) {
      this.#rest = value.subarray(most);
      value = value.subarray(0, most);
    }
    return value;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return readAll(this);
  }

  async whole<T>(use: (bytes: Uint8Array) => T | Promise<T>): Promise<T> {
    return await use(await this.bytes());
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** The Content-Encodings that are decoded, and the `DecompressionStream` format of each. */
const DECODERS: Record<string, CompressionFormat> = {
  "gzip": "gzip",
  "x-gzip": "gzip",
  "deflate": "deflate",
};

/**
 * About how many decoded bytes one slice of encoded bytes should make. A decoder turns each input
 * chunk into all of its output at once, and deflate can expand a thousandfold: so the encoded
 * body goes to the decoder in slices sized by the expansion seen so far, and decoding goes at
 * the reader's pace (the file writes) with a few MiB in flight, however the body was compressed.
 * Small output chunks are also collected soon; large ones would pile up outside V8's heap.
 */
const DECODED_PER_SLICE = 256 * 1024;
/** The smallest and largest slices (a bomb's, and an ordinary body's). */
const SLICE_BYTES = { least: 256, most: 64 * 1024 } as const;

/** The next slice's size, for `encoded` bytes that decoded to `decoded` so far. */
function sliceBytes(encoded: number, decoded: number): number {
  // Until some output is seen, assume the worst: a first slice of a bomb stays small.
  const ratio = encoded > 0 && decoded > 0 ? decoded / encoded : 1024;
  const size = Math.round(DECODED_PER_SLICE / Math.max(ratio, 1));
  return Math.min(SLICE_BYTES.most, Math.max(SLICE_BYTES.least, size));
}

/**
 * Decoded bytes between two garbage collections. Decoded chunks live outside V8's heap, and V8
 * collects them late when its heap is large: a body that decodes to gigabytes would otherwise
 * hold hundreds of MiB of them.
 */
const COLLECT_EVERY_BYTES = 32 * 2 ** 20;

let collector: Promise<(() => void) | undefined> | undefined;

/**
 * V8's full garbage collection, obtained on first use: only a run that decodes a large body pays
 * its few ms (`--expose-gc` on the command line would cost every start). Undefined where the
 * runtime does not offer it.
 */
function garbageCollector(): Promise<(() => void) | undefined> {
  collector ??= (async () => {
    try {
      const [{ setFlagsFromString }, { runInNewContext }] = await Promise.all([
        import("node:v8"),
        import("node:vm"),
      ]);
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      return typeof gc === "function" ? gc as () => void : undefined;
    } catch {
      return undefined;
    }
  })();
  return collector;
}

/** What a request accepts, matching {@linkcode decodedBody}. */
export const ACCEPT_ENCODING = "gzip, deflate";

/**
 * `body` decoded from `encoding` (a Content-Encoding value); as it is when there is none. An
 * encoding not in {@linkcode ACCEPT_ENCODING} gives a body whose first read fails. Decoding
 * goes at the reader's pace: see {@linkcode DECODE_SLICE_BYTES}.
 */
export function decodedBody(body: HttpBody, encoding: string | null): HttpBody {
  const coding = encoding?.trim().toLowerCase() ?? "";
  if (coding === "" || coding === "identity") return body;
  const format = DECODERS[coding];
  let pending: Uint8Array<ArrayBuffer> | undefined; // what is left of the last chunk read
  const seen = { encoded: 0, decoded: 0, collectedAt: 0 };
  const source = new ReadableStream<BufferSource>({
    async pull(controller) {
      if (!format) {
        await body.cancel();
        throw new ProtocolError(`an unsupported Content-Encoding: ${coding}`);
      }
      if (!pending?.byteLength) {
        const chunk = await body.read();
        if (chunk === null) return controller.close();
        pending = chunk.slice(); // the view is reused by the next read
      }
      const size = sliceBytes(seen.encoded, seen.decoded);
      controller.enqueue(pending.subarray(0, size));
      seen.encoded += Math.min(size, pending.byteLength);
      pending = pending.subarray(size);
    },
    cancel: () => body.cancel(),
  }, { highWaterMark: 0 });
  if (!format) return new StreamBody(source as ReadableStream<Uint8Array>, undefined);
  return new DecodedBody(
    coding,
    source.pipeThrough(new DecompressionStream(format)),
    undefined,
    async (chunk) => {
      seen.decoded += chunk.byteLength;
      if (seen.decoded - seen.collectedAt >= COLLECT_EVERY_BYTES) {
        seen.collectedAt = seen.decoded;
        (await garbageCollector())?.();
      }
    },
  );
}

/**
 * A body read through a `DecompressionStream`: bytes that do not decode (its `TypeError`) fail
 * as a malformed answer, not as a network error; the connection's own errors pass as they are.
 */
class DecodedBody extends StreamBody {
  readonly #coding: string;

  constructor(
    coding: string,
    stream: ReadableStream<Uint8Array>,
    length: undefined,
    onChunk: (chunk: Uint8Array) => Promise<void>,
  ) {
    super(stream, length, onChunk);
    this.#coding = coding;
  }

  override async read(most?: number): Promise<Uint8Array | null> {
    try {
      return await super.read(most);
    } catch (error) {
      if (!(error instanceof TypeError) || error instanceof NetworkError) throw error;
      throw new ProtocolError(`its ${this.#coding} body does not decode: ${error.message}`, {
        cause: error,
      });
    }
  }
}
