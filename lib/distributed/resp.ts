/**
 * A small Redis client over `Deno.connect`, for the coordinator of a distributed run: it loads in
 * a few milliseconds, where ioredis and BullMQ take Deno's Node layer and some 250 CommonJS files
 * (200-250 ms before the first job could be queued).
 *
 * What it does, and no more: RESP2 commands, pipelined (the commands of one turn of the event
 * loop go out in one write, their replies come back in order); pub/sub; `redis://` and
 * `rediss://` (TLS) URLs with a user, password and database; and a connection that is lost is
 * opened again, with back-off, for ever, as ioredis does: commands wait meanwhile, and those that
 * were sent but not answered are sent again (so each command must be safe to repeat). Errors are
 * told once per message, with the URL's password redacted.
 *
 * @example
 * ```ts ignore
 * const redis = new RespClient("redis://127.0.0.1:6379");
 * await redis.send("SET", "k", "v");
 * console.log(await redis.send("GET", "k")); // "v"
 * await redis.quit();
 * ```
 *
 * @module
 */
import { redactText, urlSecrets } from "../util/secrets.ts";

/** A reply: a simple or bulk string, an integer, nil, an array, or an error inside an array. */
export type Reply = string | number | null | RespReplyError | Reply[];

/** An error reply from Redis (`-ERR ...`, `-WRONGPASS ...`). */
export class RespReplyError extends Error {
  override readonly name = "RespReplyError";
}

/** Options for a {@linkcode RespClient}. */
export interface RespOptions {
  /** Told of connection errors (redacted), once per message until the connection works again. */
  onError?: (message: string) => void;
  /** Each pub/sub message on the channels this client subscribed to. */
  onMessage?: (channel: string, message: string) => void;
  /** Where `rediss://` finds a private authority's certificate (PEM), beside the system's. */
  caCert?: string;
}

interface Command {
  bytes: Uint8Array;
  /** Replies it gets: SUBSCRIBE gets one for each channel. */
  replies: number;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  /** Sent by the client itself on each connection (AUTH, SELECT, SUBSCRIBE): never re-sent. */
  handshake?: boolean;
  /** A SUBSCRIBE: each connection's handshake subscribes again, so it is not re-sent either. */
  subscribe?: boolean;
}

/** A Redis connection that opens again when lost; see the module's description. */
export class RespClient {
  readonly #target: Target;
  readonly #options: RespOptions;
  readonly #secrets: string[];
  /** Not yet written: waiting for the connection, or for the end of this turn. */
  #queued: Command[] = [];
  /** Written, waiting for their replies, in order. */
  #sent: Command[] = [];
  readonly #channels = new Set<string>();
  #conn: Deno.Conn | undefined;
  /** The handshake of the connection has been written: commands may follow it. */
  #open = false;
  #writing: Promise<void> = Promise.resolve();
  #flushing = false;
  #closed = false;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #said: string | undefined;

  constructor(url: string, options: RespOptions = {}) {
    this.#target = parseTarget(url);
    this.#options = options;
    this.#secrets = urlSecrets(url);
    void this.#connect();
  }

  /**
   * Sends one command; resolves with its reply, rejects with a {@linkcode RespReplyError} for an
   * error reply (or with the reason the client was closed or refused).
   */
  send(...args: (string | number)[]): Promise<Reply> {
    return this.#enqueue(encode(args), 1);
  }

  /** Subscribes to `channels`; messages go to `onMessage`, and again after each reconnect. */
  async subscribe(...channels: string[]): Promise<void> {
    for (const channel of channels) this.#channels.add(channel);
    await this.#enqueue(encode(["SUBSCRIBE", ...channels]), channels.length, true);
  }

  /** Waits for what was sent, says goodbye and closes. */
  async quit(): Promise<void> {
    if (this.#closed) return;
    if (this.#open) await this.send("QUIT").catch(() => {});
    this.close();
  }

  /** Closes at once: whatever waits for a reply is rejected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#drop(new Error("the Redis connection was closed"));
    try {
      this.#conn?.close();
    } catch {
      // closed already
    }
    this.#conn = undefined;
    this.#open = false;
  }

  #enqueue(bytes: Uint8Array, replies: number, subscribe = false): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error("the Redis connection was closed"));
    const { promise, resolve, reject } = Promise.withResolvers<Reply>();
    this.#queued.push({ bytes, replies, resolve, reject, subscribe });
    this.#scheduleFlush();
    return promise;
  }

  #scheduleFlush(): void {
    if (this.#flushing || !this.#open) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      if (this.#open && this.#conn) this.#flush(this.#conn);
    });
  }

  /** Writes everything queued, in one write. */
  #flush(conn: Deno.Conn): void {
    const commands = this.#queued;
    if (commands.length === 0) return;
    this.#queued = [];
    this.#sent.push(...commands);
    this.#write(conn, concat(commands.map((command) => command.bytes)));
  }

  #write(conn: Deno.Conn, bytes: Uint8Array): void {
    this.#writing = this.#writing.then(async () => {
      if (this.#conn !== conn) return;
      try {
        for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      } catch (error) {
        this.#lost(conn, error);
      }
    });
  }

  async #connect(): Promise<void> {
    let conn: Deno.Conn;
    const { hostname, port } = this.#target;
    try {
      conn = this.#target.tls
        ? await Deno.connectTls({
          hostname,
          port,
          ...(this.#options.caCert ? { caCerts: [this.#options.caCert] } : {}),
        })
        : await Deno.connect({ hostname, port });
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    if (!this.#target.tls) (conn as Deno.TcpConn).setNoDelay(true);
    this.#conn = conn;
    void this.#read(conn);
    // The handshake goes first; what waits is sent behind it, in the same write.
    const handshake: Command[] = [];
    const step = (args: string[], replies = 1) => {
      const { resolve, reject } = Promise.withResolvers<Reply>();
      handshake.push({ bytes: encode(args), replies, resolve, reject, handshake: true });
    };
    const { username, password, db } = this.#target;
    if (password !== undefined) step(username ? ["AUTH", username, password] : ["AUTH", password]);
    if (db) step(["SELECT", db]);
    if (this.#channels.size) step(["SUBSCRIBE", ...this.#channels], this.#channels.size);
    // A refused login fails everything waiting, and is said: trying again cannot help soon.
    const refused = (error: Error) => {
      this.#drop(error);
      this.#lost(conn, error);
    };
    for (const command of handshake) command.reject = refused;
    this.#queued.unshift(...handshake);
    this.#open = true;
    this.#flush(conn);
  }

  async #read(conn: Deno.Conn): Promise<void> {
    const parser = new ReplyParser();
    const chunk = new Uint8Array(64 * 1024);
    let failure: unknown = new Error("Connection closed by Redis");
    try {
      while (true) {
        const n = await conn.read(chunk);
        if (n === null) break;
        parser.push(chunk.subarray(0, n));
        for (let reply = parser.next(); reply !== MORE; reply = parser.next()) {
          this.#reply(reply);
        }
        if (this.#failures > 0 && this.#conn === conn) {
          // Answered: the connection works again.
          this.#failures = 0;
          this.#said = undefined;
        }
      }
    } catch (error) {
      failure = error;
    }
    this.#lost(conn, failure);
  }

  #reply(reply: Reply): void {
    if (Array.isArray(reply) && reply[0] === "message" && this.#channels.size > 0) {
      this.#options.onMessage?.(String(reply[1]), String(reply[2]));
      return;
    }
    const command = this.#sent[0];
    if (!command) return;
    if (--command.replies > 0) return;
    this.#sent.shift();
    if (reply instanceof RespReplyError) command.reject(reply);
    else command.resolve(reply);
  }

  /** The connection is gone: what was sent and not answered goes again on the next one. */
  #lost(conn: Deno.Conn, error: unknown): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#open = false;
    try {
      conn.close();
    } catch {
      // closed already
    }
    if (this.#closed) return;
    const again = this.#sent.filter((command) => !command.handshake);
    // A SUBSCRIBE is in the next connection's handshake.
    for (const command of again) if (command.subscribe) command.resolve(null);
    this.#queued.unshift(...again.filter((command) => !command.subscribe));
    this.#sent = [];
    this.#failed(error);
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#tell(error instanceof Error ? error.message : String(error));
    this.#failures++;
    const delay = Math.min(this.#failures * 200, 2000);
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }

  #tell(message: string): void {
    const shown = redactText(message, this.#secrets);
    if (shown !== this.#said) this.#options.onError?.(shown);
    this.#said = shown;
  }

  /** Fails every command not answered. */
  #drop(error: Error): void {
    const commands = [...this.#sent, ...this.#queued].filter((command) => !command.handshake);
    this.#sent = [];
    this.#queued = [];
    for (const command of commands) command.reject(error);
  }
}

interface Target {
  hostname: string;
  port: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  db: string | undefined;
}

function parseTarget(url: string): Target {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, "");
  return {
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(parsed.port || 6379),
    tls: parsed.protocol === "rediss:",
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db && db !== "0" ? db : undefined,
  };
}

const encoder = new TextEncoder();

/** A command as RESP: an array of bulk strings. */
function encode(args: (string | number)[]): Uint8Array {
  let head = `*${args.length}\r\n`;
  const parts: Uint8Array[] = [];
  for (const arg of args) {
    const bytes = encoder.encode(String(arg));
    head += `$${bytes.length}\r\n`;
    parts.push(encoder.encode(head), bytes);
    head = "\r\n";
  }
  parts.push(encoder.encode(head));
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What {@linkcode ReplyParser.next} says when the reply is not all there yet. */
const MORE = Symbol("more");

const CR = 13;
const decoder = new TextDecoder();

/**
 * RESP2 replies from a stream of chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplyParser } from "./resp.ts";
 * const parser = new ReplyParser();
 * const bytes = new TextEncoder().encode("+OK\r\n:7\r\n$-1\r\n*2\r\n$3\r\nabc\r\n-ERR no\r\n");
 * parser.push(bytes.subarray(0, 12));
 * assert.equal(parser.next(), "OK");
 * assert.equal(parser.next(), 7);
 * assert.equal(typeof parser.next(), "symbol"); // the rest has not come yet
 * parser.push(bytes.subarray(12));
 * assert.equal(parser.next(), null);
 * const [text, error] = parser.next() as [string, Error];
 * assert.equal(text, "abc");
 * assert.equal(error.message, "ERR no");
 * ```
 */
export class ReplyParser {
  /** Bytes read, unparsed from `#at` to `#end`; grown by doubling, so a large reply is copied
   * a few times in all, not once per read. */
  #buffer = new Uint8Array(FIRST_BUFFER);
  #at = 0;
  #end = 0;
  /** The arrays a reply is inside of, outermost first, with the items they still need. */
  #open: { items: Reply[]; missing: number }[] = [];

  /** Adds bytes read from the connection. */
  push(bytes: Uint8Array): void {
    if (this.#at === this.#end) {
      this.#at = this.#end = 0;
      // A buffer grown for one large reply is let go once it has been read.
      if (this.#buffer.length > LARGE_BUFFER) this.#buffer = new Uint8Array(FIRST_BUFFER);
    }
    if (this.#end + bytes.length > this.#buffer.length) {
      const unread = this.#end - this.#at;
      const needed = unread + bytes.length;
      if (needed <= this.#buffer.length / 2) {
        this.#buffer.copyWithin(0, this.#at, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(this.#buffer.length * 2, needed));
        grown.set(this.#buffer.subarray(this.#at, this.#end));
        this.#buffer = grown;
      }
      this.#at = 0;
      this.#end = unread;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /**
   * The next whole reply, or a symbol when more bytes are needed. An array's items are kept as
   * they come, so no byte is parsed twice, whatever the size of the reply.
   */
  next(): Reply | typeof MORE {
    for (;;) {
      const start = this.#at;
      const item = this.#item();
      if (item === MORE) {
        this.#at = start;
        return MORE;
      }
      if (item === OPENED) continue;
      let reply: Reply = item;
      for (;;) {
        const inner = this.#open.at(-1);
        if (!inner) return reply;
        inner.items.push(reply);
        if (--inner.missing > 0) break;
        this.#open.pop();
        reply = inner.items;
      }
    }
  }

  #line(): string | typeof MORE {
    const end = this.#buffer.subarray(0, this.#end).indexOf(CR, this.#at);
    if (end < 0 || end + 1 >= this.#end) return MORE;
    const line = decoder.decode(this.#buffer.subarray(this.#at, end));
    this.#at = end + 2;
    return line;
  }

  /** One reply that is not an array with items, or the start of one ({@linkcode OPENED}). */
  #item(): Exclude<Reply, Reply[]> | [] | typeof MORE | typeof OPENED {
    if (this.#at >= this.#end) return MORE;
    const type = this.#buffer[this.#at++]!;
    const line = this.#line();
    if (line === MORE) return MORE;
    switch (type) {
      case 0x2b: // +
        return line;
      case 0x2d: // -
        return new RespReplyError(line);
      case 0x3a: // :
        return Number(line);
      case 0x24: { // $
        const size = Number(line);
        if (size < 0) return null;
        if (this.#at + size + 2 > this.#end) return MORE;
        const text = decoder.decode(this.#buffer.subarray(this.#at, this.#at + size));
        this.#at += size + 2;
        return text;
      }
      case 0x2a: { // *
        const count = Number(line);
        if (count < 0) return null;
        if (count === 0) return [];
        this.#open.push({ items: [], missing: count });
        return OPENED;
      }
      default:
        throw new Error(`Redis sent a reply this client cannot read (type ${type})`);
    }
  }
}

/** The read buffer's first size. */
const FIRST_BUFFER = 64 * 1024;
/** A buffer above this size is not kept once empty. */
const LARGE_BUFFER = 1024 * 1024;
/** What {@linkcode ReplyParser}'s item reader says when an array begins. */
const OPENED = Symbol("opened");
