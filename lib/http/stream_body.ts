/**
 * Bodies that come from a `ReadableStream`: a fetch response's (the proxy path), and a body
 * decoded from its Content-Encoding (gzip, deflate) on its way from the connection.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";
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

  constructor(stream: ReadableStream<Uint8Array>, length: number | undefined) {
    this.#reader = stream.getReader();
    this.length = length;
  }

  async read(): Promise<Uint8Array | null> {
    const { done, value } = await this.#reader.read();
    return done ? null : value;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return readAll(this);
  }

  async whole<T>(use: (bytes: Uint8Array) => Promise<T>): Promise<T> {
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

/** What a request accepts, matching {@linkcode decodedBody}. */
export const ACCEPT_ENCODING = "gzip, deflate";

/**
 * `body` decoded from `encoding` (a Content-Encoding value); as it is when there is none. An
 * encoding not in {@linkcode ACCEPT_ENCODING} gives a body whose first read fails.
 */
export function decodedBody(body: HttpBody, encoding: string | null): HttpBody {
  const coding = encoding?.trim().toLowerCase() ?? "";
  if (coding === "" || coding === "identity") return body;
  const format = DECODERS[coding];
  const source = new ReadableStream<BufferSource>({
    async pull(controller) {
      if (!format) {
        await body.cancel();
        throw new ProtocolError(`an unsupported Content-Encoding: ${coding}`);
      }
      const chunk = await body.read();
      if (chunk === null) controller.close();
      else controller.enqueue(chunk.slice()); // the view is reused by the next read
    },
    cancel: () => body.cancel(),
  });
  if (!format) return new StreamBody(source as ReadableStream<Uint8Array>, undefined);
  return new StreamBody(source.pipeThrough(new DecompressionStream(format)), undefined);
}
