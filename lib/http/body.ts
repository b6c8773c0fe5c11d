/**
 * Response bodies read off an {@linkcode HttpConnection}, one class per framing: a known length,
 * chunked, or up to the end of the connection. Each hands back views into the connection's
 * buffer (no copy per chunk) and tells the client, once, whether the connection can carry the
 * next request.
 *
 * @module
 */
import { concatBytes } from "../util/bytes.ts";
import { IncompleteBodyError, ProtocolError } from "./errors.ts";
import { type HttpConnection, LARGEST_BUFFER } from "./connection.ts";
import type { Framing } from "./head.ts";

/**
 * A response body.
 *
 * @example
 * ```ts ignore
 * for (let chunk = await body.read(); chunk; chunk = await body.read()) file.writeSync(chunk);
 * ```
 */
export interface HttpBody {
  /** The length in bytes, when the server declared it and the body is not content-encoded. */
  readonly length: number | undefined;
  /**
   * The next bytes, at most `most` of them: a view valid until the next call. Null at the end.
   * @param most @default 1 MiB
   */
  read(most?: number): Promise<Uint8Array | null>;
  /** The rest of the body, in one array of its own. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Reads the rest of the body and hands it to `use` in one view, valid until `use` settles
   * (the connection waits for it): no copy when the body is framed by its length. The whole
   * body is held in memory, so this is for bodies known to be small.
   */
  whole<T>(use: (bytes: Uint8Array) => T | Promise<T>): Promise<T>;
  /** Discards the rest. Never throws. */
  cancel(): Promise<void>;
}

/**
 * The rest of a body in one array: each view copied as it comes, since the next read may reuse
 * it.
 */
export async function readAll(body: Pick<HttpBody, "read">): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  for (let chunk = await body.read(); chunk; chunk = await body.read()) chunks.push(chunk.slice());
  return concatBytes(chunks);
}

/** Called once per exchange: `reusable` when the body was read to its end on a live connection. */
export type ExchangeEnd = (reusable: boolean) => void;

/** What a framed body needs besides its framing. */
export interface FramedBodyOptions {
  connection: HttpConnection;
  /** Whether the response allows another request on the connection. */
  keepAlive: boolean;
  signal: AbortSignal;
  end: ExchangeEnd;
}

/** The body of a response as its framing says; an empty body ends the exchange at once. */
export function framedBody(framing: Framing, options: FramedBodyOptions): HttpBody {
  switch (framing.kind) {
    case "none":
      return new LengthBody(0, options);
    case "length":
      return new LengthBody(framing.length, options);
    case "chunked":
      return new ChunkedBody(options);
    case "close":
      return new CloseBody(options);
  }
}

/** Reading, ending the exchange once, and surfacing the run's abort reason over a closed socket. */
abstract class FramedBody implements HttpBody {
  abstract readonly length: number | undefined;
  protected readonly connection: HttpConnection;
  readonly #options: FramedBodyOptions;
  #ended = false;

  constructor(options: FramedBodyOptions) {
    this.connection = options.connection;
    this.#options = options;
  }

  protected abstract next(most: number): Promise<Uint8Array | null>;

  async read(most: number = LARGEST_BUFFER): Promise<Uint8Array | null> {
    if (this.#ended && this.isDone()) return null;
    try {
      const bytes = await this.next(Math.max(1, Math.min(most, LARGEST_BUFFER)));
      if (bytes === null) this.end(this.#options.keepAlive);
      return bytes;
    } catch (error) {
      this.end(false);
      throw this.#options.signal.aborted ? this.#options.signal.reason : error;
    }
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return readAll(this);
  }

  async whole<T>(use: (bytes: Uint8Array) => T | Promise<T>): Promise<T> {
    return await use(await this.bytes());
  }

  cancel(): Promise<void> {
    this.end(this.isDone() && this.#options.keepAlive);
    return Promise.resolve();
  }

  /** Whether everything was read. */
  protected abstract isDone(): boolean;

  protected end(reusable: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!reusable) this.connection.close();
    this.#options.end(reusable && !this.connection.closed);
  }

  protected get signal(): AbortSignal {
    return this.#options.signal;
  }

  protected get keepAlive(): boolean {
    return this.#options.keepAlive;
  }
}

class LengthBody extends FramedBody {
  readonly length: number;
  #left: number;

  constructor(length: number, options: FramedBodyOptions) {
    super(options);
    this.length = length;
    this.#left = length;
    if (length === 0) this.end(options.keepAlive);
  }

  protected isDone(): boolean {
    return this.#left === 0;
  }

  protected async next(most: number): Promise<Uint8Array | null> {
    if (this.#left === 0) return null;
    const bytes = await this.connection.take(Math.min(this.#left, most));
    if (bytes === null) throw this.#incomplete(this.length - this.#left);
    this.#left -= bytes.length;
    return bytes;
  }

  /** The rest in one array, copied once out of the connection's buffer. */
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.whole((bytes) => Promise.resolve(bytes.slice()));
  }

  /** Buffers the rest in the connection and lends `use` a view of it there. */
  override async whole<T>(use: (bytes: Uint8Array) => T | Promise<T>): Promise<T> {
    const left = this.#left;
    try {
      const got = await this.connection.fillTo(left);
      if (got < left) throw this.#incomplete(this.length - left + got);
    } catch (error) {
      this.end(false);
      throw this.signal.aborted ? this.signal.reason : error;
    }
    try {
      return await use(this.connection.peek(left));
    } finally {
      this.connection.skip(left);
      this.#left = 0;
      this.end(this.keepAlive);
    }
  }

  /** Keeps the connection when the rest is already here (a redirect's short body). */
  override cancel(): Promise<void> {
    if (this.#left > 0 && this.#left <= this.connection.buffered) {
      this.connection.skip(this.#left);
      this.#left = 0;
    }
    return super.cancel();
  }

  #incomplete(got: number): IncompleteBodyError {
    return new IncompleteBodyError(
      `the connection closed after ${got} of the ${this.length} bytes Content-Length declared`,
    );
  }
}

class ChunkedBody extends FramedBody {
  readonly length = undefined;
  #left = 0;
  #afterChunk = false;
  #done = false;

  protected isDone(): boolean {
    return this.#done;
  }

  protected async next(most: number): Promise<Uint8Array | null> {
    while (this.#left === 0) {
      if (this.#done) return null;
      if (this.#afterChunk && (await this.#line()) !== "") {
        throw new ProtocolError("a chunk longer than its declared size");
      }
      const size = chunkSize(await this.#line());
      this.#afterChunk = true;
      if (size === 0) {
        while ((await this.#line()) !== "") { /* trailer fields: not used */ }
        this.#done = true;
        return null;
      }
      this.#left = size;
    }
    const bytes = await this.connection.take(Math.min(this.#left, most));
    if (bytes === null) throw incompleteChunked();
    this.#left -= bytes.length;
    return bytes;
  }

  async #line(): Promise<string> {
    const line = await this.connection.readLine();
    if (line === undefined) throw incompleteChunked();
    return line;
  }
}

class CloseBody extends FramedBody {
  readonly length = undefined;
  #done = false;

  protected isDone(): boolean {
    return this.#done;
  }

  protected async next(most: number): Promise<Uint8Array | null> {
    const bytes = await this.connection.take(most);
    if (bytes === null) this.#done = true;
    return bytes;
  }
}

/** The size of a chunk from its line: hex digits, then maybe `;extensions`. */
function chunkSize(line: string): number {
  const match = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
  if (!match) {
    throw new ProtocolError(`an invalid chunk size line: ${JSON.stringify(line.slice(0, 40))}`);
  }
  return parseInt(match[1]!, 16);
}

function incompleteChunked(): IncompleteBodyError {
  return new IncompleteBodyError("the connection closed before the last chunk of the body");
}
