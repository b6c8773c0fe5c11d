/**
 * A lean HTTP/1.1 client for GET requests over `Deno.connect` and `Deno.connectTls`, with a
 * keep-alive pool per origin. It exists for speed: on many small files it spends far less of
 * the one JavaScript thread per request than `fetch` (`deno task bench downloads` runs both),
 * and a body's bytes reach the caller as views of the connection's buffer, with no stream in
 * between.
 *
 * It does what a download needs and no more: GET only, no redirects (the caller follows them),
 * bodies framed by length, chunks or the end of the connection, and gzip or deflate decoded.
 *
 * @module
 */
import { NetworkError, ProtocolError } from "./errors.ts";
import { framedBody, type HttpBody } from "./body.ts";
import { HttpConnection } from "./connection.ts";
import { framingOf, keepsAlive, parseResponseHead, type ResponseHead } from "./head.ts";
import { ACCEPT_ENCODING, decodedBody } from "./stream_body.ts";

/** A request's headers and its abort signal. */
export interface HttpRequestInit {
  headers: Headers;
  signal: AbortSignal;
}

/** A response: its head, and a body (empty for 204 and 304). */
export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: HttpBody;
}

/** Options for {@linkcode HttpClient}. */
export interface HttpClientOptions {
  /** Idle connections kept per origin for the next requests. @default 64 */
  maxIdlePerOrigin?: number;
  /**
   * Idle connections kept in all: past it, the one idle longest is closed. A crawl of thousands
   * of hosts would otherwise keep a socket open to each until the end, and run out of file
   * descriptors. @default maxIdlePerOrigin
   */
  maxIdle?: number;
  /** More certificate authorities to trust for TLS, in PEM. @default none */
  caCerts?: string[];
}

/**
 * GETs over HTTP/1.1 with pooled connections.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpClient } from "./client.ts";
 * import { serveLoopback } from "../util/serve_loopback.ts";
 * await using server = serveLoopback(() => new Response("hello"));
 * using client = new HttpClient();
 * const response = await client.get(new URL(server.url), {
 *   headers: new Headers(),
 *   signal: new AbortController().signal,
 * });
 * assert(new TextDecoder().decode(await response.body.bytes()) === "hello");
 * ```
 */
export class HttpClient implements Disposable {
  readonly #idle = new Map<string, HttpConnection[]>();
  /** Every idle connection, the one idle longest first. */
  readonly #idleOrder = new Set<HttpConnection>();
  readonly #maxIdle: number;
  readonly #maxIdleInAll: number;
  readonly #caCerts: string[] | undefined;
  #closed = false;

  constructor(options: HttpClientOptions = {}) {
    this.#maxIdle = options.maxIdlePerOrigin ?? 64;
    this.#maxIdleInAll = options.maxIdle ?? this.#maxIdle;
    this.#caCerts = options.caCerts;
  }

  /**
   * GETs `url`. A pooled connection the server has closed meanwhile is dropped and the request
   * sent again, as GET is safe to repeat.
   *
   * @throws {NetworkError} when the connection fails or closes before the head arrives
   * @throws {ProtocolError} on a malformed response head
   */
  async get(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    const { signal } = init;
    const origin = originOf(url);
    const request = requestHead(url, init.headers);
    for (;;) {
      signal.throwIfAborted();
      const idle = this.#idle.get(origin);
      const pooled = idle?.pop();
      if (pooled) this.#idleOrder.delete(pooled);
      if (idle?.length === 0) this.#idle.delete(origin);
      const connection = pooled ?? await this.#connect(url, origin, signal);
      const onAbort = () => connection.close();
      signal.addEventListener("abort", onAbort, { once: true });
      let handedOver = false;
      try {
        await connection.write(request);
        const head = await readFinalHead(connection);
        if (head === undefined) {
          if (pooled) continue; // closed while idle: try the next connection
          throw new NetworkError(`${origin} closed the connection without answering`);
        }
        const framing = framingOf(head);
        const end = (reusable: boolean) => {
          signal.removeEventListener("abort", onAbort);
          if (reusable) this.#release(connection);
          else connection.close();
        };
        const body = framedBody(framing, {
          connection,
          keepAlive: keepsAlive(head, framing),
          signal,
          end,
        });
        handedOver = true;
        const { status, statusText, headers } = head;
        return {
          status,
          statusText,
          headers,
          body: decodedBody(body, headers.get("content-encoding")),
        };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        // A pooled connection may have been spoilt while idle: closed by the server, or sent
        // bytes past its last response's end. A fresh connection says whether the server errs.
        if (pooled && error instanceof NetworkError) continue;
        throw error;
      } finally {
        if (!handedOver) {
          signal.removeEventListener("abort", onAbort);
          connection.close();
        }
      }
    }
  }

  /** Closes the idle connections; connections still in use close when their exchange ends. */
  close(): void {
    this.#closed = true;
    for (const connections of this.#idle.values()) {
      for (const connection of connections) connection.close();
    }
    this.#idle.clear();
    this.#idleOrder.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #release(connection: HttpConnection) {
    let idle = this.#idle.get(connection.origin);
    if (!idle) this.#idle.set(connection.origin, idle = []);
    // A buffer grown for a large body stays grown: the next large body would grow it again.
    // Bytes past the body's end (a server that sent more than its Content-Length) would be read
    // as the next response: such a connection is closed, as curl closes it.
    if (this.#closed || idle.length >= this.#maxIdle || connection.buffered > 0) {
      connection.close();
      return;
    }
    idle.push(connection);
    this.#idleOrder.add(connection);
    if (this.#idleOrder.size > this.#maxIdleInAll) {
      const [longest] = this.#idleOrder;
      this.#idleOrder.delete(longest!);
      const ofOrigin = this.#idle.get(longest!.origin)!;
      ofOrigin.splice(ofOrigin.indexOf(longest!), 1);
      if (ofOrigin.length === 0) this.#idle.delete(longest!.origin);
      longest!.close();
    }
  }

  async #connect(url: URL, origin: string, signal: AbortSignal): Promise<HttpConnection> {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1"); // an IPv6 literal's brackets
    const tls = url.protocol === "https:";
    const port = Number(url.port) || (tls ? 443 : 80);
    const connecting = (async (): Promise<Deno.Conn> => {
      if (!tls) {
        const conn = await Deno.connect({ hostname, port });
        conn.setNoDelay(true);
        return conn;
      }
      const conn = await Deno.connectTls({
        hostname,
        port,
        alpnProtocols: ["http/1.1"],
        ...(this.#caCerts ? { caCerts: this.#caCerts } : {}),
      });
      try {
        await conn.handshake(); // a certificate error belongs to connecting
      } catch (error) {
        conn.close();
        throw error;
      }
      return conn;
    })();
    try {
      return new HttpConnection(await untilAborted(connecting, signal), origin);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!(error instanceof Error) || error.name === "NotCapable") throw error; // not granted
      const hint = certificateHint(error.message);
      throw new NetworkError(`cannot connect to ${url.host}: ${error.message}${hint}`, {
        cause: error,
      });
    }
  }
}

/**
 * What to do about the TLS errors a user meets most, which rustls names tersely; "" for others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { certificateHint } from "./client.ts";
 * assert.match(certificateHint("invalid peer certificate: UnknownIssuer"), /tls: \{ ca:/);
 * assert.equal(certificateHint("Connection refused (os error 111)"), "");
 * ```
 */
export function certificateHint(message: string): string {
  if (/UnknownIssuer/.test(message)) {
    return " (no authority taskpool trusts signed the server's certificate: name the one that " +
      "did in the job file's `tls: { ca: [ca.pem] }`, or in DENO_CERT)";
  }
  if (/CaUsedAsEndEntity/.test(message)) {
    return " (the server presents a CA certificate as its own, as `openssl req -x509` makes " +
      "by default: give the server a certificate with basicConstraints CA:FALSE)";
  }
  if (/Expired/.test(message)) return " (the server's certificate has expired)";
  return "";
}

const encoder = new TextEncoder();

/** Reads heads until a final one, skipping interim (1xx) responses such as 103 Early Hints. */
async function readFinalHead(connection: HttpConnection): Promise<ResponseHead | undefined> {
  let bytes = await connection.readHead();
  if (bytes === undefined) return undefined;
  for (;;) {
    const head = parseResponseHead(bytes);
    if (head.status >= 200) return head;
    if (head.status === 101) throw new ProtocolError("a 101 Switching Protocols answer to a GET");
    bytes = await connection.readHead();
    if (bytes === undefined) {
      throw new NetworkError(`the connection closed after an interim ${head.status} response`);
    }
  }
}

/** `scheme://host:port`, the port always written. */
function originOf(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** The request head of a GET, as bytes: each header value is a ByteString. */
function requestHead(url: URL, headers: Headers): Uint8Array {
  let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  if (!headers.has("user-agent")) text += "user-agent: taskpool\r\n";
  if (!headers.has("accept")) text += "accept: */*\r\n";
  if (!headers.has("accept-encoding")) text += `accept-encoding: ${ACCEPT_ENCODING}\r\n`;
  for (const [name, value] of headers) {
    if (name !== "host" && name !== "connection") text += `${name}: ${value}\r\n`;
  }
  text += "\r\n";
  const utf8 = encoder.encode(text);
  if (utf8.length === text.length) return utf8; // ASCII: the same bytes
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** `promise`, or the signal's reason when it aborts first; a connection made too late is closed. */
function untilAborted(promise: Promise<Deno.Conn>, signal: AbortSignal): Promise<Deno.Conn> {
  if (signal.aborted) {
    promise.then((conn) => conn.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      promise.then((conn) => conn.close(), () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
