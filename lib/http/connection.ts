/**
 * One TCP or TLS connection to an origin, with a read buffer: it writes a request head and reads
 * the response back in the pieces HTTP/1.1 needs (a head, a line, some bytes). One exchange at a
 * time; the client hands it back to its pool when a body has been read to its end.
 *
 * @module
 */
import { NetworkError, ProtocolError } from "./errors.ts";
import { MOST_HEAD_BYTES } from "./head.ts";

/** The read buffer's first size: a 64 KiB body and its head fit in one read. */
const FIRST_BUFFER = 80 * 1024;

/**
 * The read buffer's largest size, reached while a body larger than the first buffer is read:
 * fewer, larger reads and writes for a large body.
 */
export const LARGEST_BUFFER = 1024 * 1024;

/** The longest chunk-size or trailer line accepted, in bytes. */
const MOST_LINE_BYTES = 8 * 1024;

/**
 * A buffered connection.
 *
 * @example
 * ```ts ignore
 * const conn = new HttpConnection(await Deno.connect({ port: 8080 }), "http://localhost:8080");
 * await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: localhost\r\n\r\n"));
 * const head = await conn.readHead();
 * ```
 */
export class HttpConnection {
  /** `scheme://host:port`, the pool's key. */
  readonly origin: string;
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(FIRST_BUFFER);
  #start = 0;
  #end = 0;
  /** How far the search for the end of the head has looked, from `#start`. */
  #scanned = 0;
  #closed = false;

  constructor(conn: Deno.Conn, origin: string) {
    this.#conn = conn;
    this.origin = origin;
  }

  /** Whether `close()` was called (an abort, an error, or a body that ends the connection). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes read from the socket and not yet taken. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    try {
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
    } catch (error) {
      this.close();
      throw networkError(error);
    }
  }

  /**
   * Reads a response head: the bytes before the empty line, as a view valid until the next read.
   * Undefined when the connection ended before a single byte of it (a stale keep-alive
   * connection the server had closed).
   *
   * @throws {ProtocolError} for a head over {@linkcode MOST_HEAD_BYTES}
   * @throws {NetworkError} when the connection ends inside the head
   */
  async readHead(): Promise<Uint8Array | undefined> {
    this.#scanned = 0;
    for (;;) {
      const end = this.#findHeadEnd();
      if (end !== undefined && end.head <= MOST_HEAD_BYTES) {
        const head = this.#buffer.subarray(this.#start, this.#start + end.head);
        this.#start += end.next;
        return head;
      }
      if (end !== undefined || this.buffered >= MOST_HEAD_BYTES) {
        throw new ProtocolError(`a response head over ${MOST_HEAD_BYTES} bytes`);
      }
      if (!(await this.#fill(MOST_HEAD_BYTES + 4))) {
        if (this.buffered === 0) return undefined;
        throw new NetworkError("the connection closed in the middle of a response head");
      }
    }
  }

  /**
   * Reads one line (for chunk sizes and trailers), without its line ending; undefined at the end
   * of the connection.
   */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const at = this.#buffer.subarray(this.#start, this.#end).indexOf(10);
      if (at >= 0) {
        const line = this.#buffer.subarray(this.#start, this.#start + at);
        this.#start += at + 1;
        const length = line.at(-1) === 13 ? line.length - 1 : line.length;
        return String.fromCharCode(...line.subarray(0, length));
      }
      if (this.buffered >= MOST_LINE_BYTES) {
        throw new ProtocolError(`a chunk line over ${MOST_LINE_BYTES} bytes`);
      }
      if (!(await this.#fill(MOST_LINE_BYTES + 1))) return undefined;
    }
  }

  /**
   * Takes up to `most` bytes, reading the socket only when nothing is buffered. The view is
   * valid until the next read. Null at the end of the connection.
   */
  async take(most: number): Promise<Uint8Array | null> {
    if (this.buffered === 0) {
      if (most > this.#buffer.length && this.#buffer.length < LARGEST_BUFFER) {
        this.#buffer = new Uint8Array(LARGEST_BUFFER); // empty: nothing to carry over
      }
      if (!(await this.#fill(0))) return null;
    }
    const n = Math.min(most, this.buffered);
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    return view;
  }

  /**
   * Reads until `n` bytes are buffered (growing the buffer if it must) or the connection ends;
   * returns how many are, at most `n`. {@linkcode peek} then sees them.
   */
  async fillTo(n: number): Promise<number> {
    while (this.buffered < n) {
      if (this.#start + n > this.#buffer.length) this.#makeRoom(n);
      const got = await this.#read(this.#buffer.subarray(this.#end));
      if (got === null) break;
      this.#end += got;
    }
    return Math.min(n, this.buffered);
  }

  /** A view of the next `n` buffered bytes (at most {@linkcode buffered}), not taken. */
  peek(n: number): Uint8Array {
    return this.#buffer.subarray(this.#start, this.#start + Math.min(n, this.buffered));
  }

  /** Drops `n` buffered bytes (at most {@linkcode buffered}). */
  skip(n: number): void {
    this.#start += Math.min(n, this.buffered);
  }

  /** Closes the connection; safe to call more than once. Pending reads reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed by the peer's reset */ }
  }

  /** Moves the unread bytes to the front, in a buffer of at least `n` bytes. */
  #makeRoom(n: number) {
    const unread = this.#buffer.subarray(this.#start, this.#end);
    if (n > this.#buffer.length) {
      const grown = new Uint8Array(n);
      grown.set(unread);
      this.#buffer = grown;
    } else {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    }
    this.#end = unread.length;
    this.#start = 0;
  }

  /** The end of the head from `#start`: where it ends, and where what follows it begins. */
  #findHeadEnd(): { head: number; next: number } | undefined {
    const bytes = this.#buffer.subarray(this.#start, this.#end);
    let at = bytes.indexOf(10, Math.max(0, this.#scanned - 3));
    while (at >= 0) {
      // A line feed ends the head when the line it ends is empty: "\n\n" or "\n\r\n".
      if (at >= 1 && bytes[at - 1] === 10) return { head: at - 1, next: at + 1 };
      if (at >= 2 && bytes[at - 1] === 13 && bytes[at - 2] === 10) {
        return { head: at - 2, next: at + 1 };
      }
      at = bytes.indexOf(10, at + 1);
    }
    this.#scanned = bytes.length;
    return undefined;
  }

  /**
   * Reads more into the buffer; false at the end of the connection. Keeps the unread bytes,
   * moving them to the front, or growing the buffer up to `room` when they fill it.
   */
  async #fill(room: number): Promise<boolean> {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#end === this.#buffer.length) {
      // Full: move the unread bytes to the front, or grow when they fill the buffer.
      const length = this.#buffer.length;
      this.#makeRoom(this.#start === 0 ? Math.max(room, length * 2) : length);
    }
    const n = await this.#read(this.#buffer.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  async #read(into: Uint8Array): Promise<number | null> {
    try {
      return await this.#conn.read(into);
    } catch (error) {
      this.close();
      throw networkError(error);
    }
  }
}

/** A socket error as a {@linkcode NetworkError}, keeping the cause. */
export function networkError(error: unknown): unknown {
  if (error instanceof NetworkError || !(error instanceof Error)) return error;
  if (error.name === "NotCapable") return error;
  return new NetworkError(`the connection failed: ${error.message}`, { cause: error });
}
