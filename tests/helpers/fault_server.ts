/**
 * A loopback HTTP server with one route per behaviour the download code must handle. Start it
 * with `await using server = startFaultServer()`; every route is deterministic.
 *
 * Routes:
 * - `/bytes/N`            N deterministic bytes (see {@linkcode bodyBytes}), Content-Length set
 * - `/status/CODE`        that status with a short text body; `?echo=HEADER` puts that request
 *                          header's value in the body
 * - `/flaky/KEY?fail=N&status=S&after=SECONDS&after_date=SECONDS`  status S (default 503) for
 *                          the first N requests of KEY, with a Retry-After in seconds or as an
 *                          HTTP date that many seconds ahead; then 64 bytes
 * - `/short/N`            claims N bytes, sends half, then breaks the connection
 * - `/hold/KEY`           waits until `release(KEY)`; `started(KEY)` resolves when it arrives
 * - `/stall`              sends headers and never a body byte until the server closes;
 *                          `started("stall")` resolves when it arrives
 * - `/drip`               one byte every 20 ms, for ever
 * - `/endless`            64 KiB chunks for ever, no Content-Length
 * - `/file/NAME?size=S&cut=K&norange=1&change=1&etag=0&lm=0`  a versioned file (see
 *                          {@linkcode fileBytes}) with an ETag and Last-Modified; answers
 *                          Range + If-Range (206), If-None-Match / If-Modified-Since (304). The
 *                          first K responses send half their body and break the connection;
 *                          `change=1` makes each broken response also bump the version;
 *                          `norange=1` ignores Range; `stall=K`: the first K responses send
 *                          half their body and then nothing until the server closes;
 *                          `cap=B`: each response sends at most B bytes a second;
 *                          `cd=NAME`: a Content-Disposition attachment named NAME;
 *                          `tag=T`: the ETag is `"T"` (mirrors of one file share one);
 *                          `lm=DATE`: that Last-Modified (`lm=0`: none);
 *                          Range may be `bytes=A-` or `bytes=A-B`
 * - `/gzip/KEY?fail=N`    Content-Encoding gzip: a corrupt stream for the first N requests, then
 *                          the gzip of `bodyBytes(1000)`
 * - `/redirect/N`         302 to `/redirect/N-1`; `/redirect/0` answers 64 bytes
 * - `/loop/A`, `/loop/B`  302 to each other
 * - `/to?url=U`           302 to U
 * - `/together/KEY?n=N`   holds each request until N requests of KEY are in flight at once,
 *                          then answers them all; counts the most ever in flight
 *
 * @module
 */
import { serveLoopback } from "../../lib/util/serve_loopback.ts";

/** A running fault server. */
export interface FaultServer extends AsyncDisposable {
  url: string;
  /** Requests seen per path (without the query). */
  hits: Map<string, number>;
  /** The request headers of every request, per path. */
  requests: Map<string, Headers[]>;
  /** Client ports that connected, to count connections. */
  connections: Set<number>;
  /** The most requests of each `/together/KEY` in flight at once. */
  mostInFlight: Map<string, number>;
  /** Resolves when a request for `/hold/KEY` has arrived. */
  started(key: string): Promise<void>;
  /** Lets `/hold/KEY` answer (200, 16 bytes). */
  release(key: string): void;
  /** The current version of `/file/NAME` (starts at 1). */
  version(name: string): number;
  /** Changes `/file/NAME`: new content, new ETag and Last-Modified. */
  bump(name: string): void;
}

/** Deterministic content of `/bytes/N`. */
export function bodyBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** Deterministic content of `/file/NAME` at a version. */
export function fileBytes(size: number, version: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + version * 101 + (i >> 8)) & 0xff;
  return bytes;
}

/** Hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function gate() {
  const arrived = Promise.withResolvers<void>();
  const go = Promise.withResolvers<void>();
  return { arrived, go };
}

/** A body that sends `bytes` and then breaks the connection. */
function breakingBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      // Error only once the bytes went out: an error discards what is still queued.
      if (sent) controller.error(new Error("connection broken on purpose"));
      else controller.enqueue(bytes);
      sent = true;
    },
  });
}

/** A body that sends `bytes` and then nothing more until `closed`. */
function stallingBody(bytes: Uint8Array, closed: Promise<void>): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await closed;
        controller.close();
      } else controller.enqueue(bytes);
      sent = true;
    },
  });
}

/** A body that sends `bytes` at most `perSecond` a second, in tenths of a second. */
function cappedBody(
  bytes: Uint8Array,
  perSecond: number,
  closed: Promise<void>,
): ReadableStream<Uint8Array> {
  const slice = Math.max(1, Math.floor(perSecond / 10));
  let at = 0;
  let stopped = false;
  closed.then(() => stopped = true);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= bytes.length || stopped) return controller.close();
      if (at > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          closed.then(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      controller.enqueue(bytes.slice(at, at + slice));
      at += slice;
    },
  });
}

/** Starts the server on a free 127.0.0.1 port. */
export function startFaultServer(): FaultServer {
  const hits = new Map<string, number>();
  const requests = new Map<string, Headers[]>();
  const connections = new Set<number>();
  const gates = new Map<string, ReturnType<typeof gate>>();
  const versions = new Map<string, number>();
  const together = new Map<string, { inFlight: number; waiting: (() => void)[] }>();
  const mostInFlight = new Map<string, number>();
  const gateFor = (key: string) => {
    let found = gates.get(key);
    if (!found) gates.set(key, found = gate());
    return found;
  };
  const server = serveLoopback(async (request, closing, info) => {
    connections.add(info.remoteAddr.port);
    const closed = new Promise<void>((resolve) => {
      if (closing.aborted) resolve();
      closing.addEventListener("abort", () => resolve(), { once: true });
    });
    const url = new URL(request.url);
    const count = (hits.get(url.pathname) ?? 0) + 1;
    hits.set(url.pathname, count);
    requests.set(url.pathname, [...(requests.get(url.pathname) ?? []), request.headers]);
    const query = (name: string, fallback: number) =>
      Number(url.searchParams.get(name) ?? fallback);
    const [, route = "", arg = ""] = url.pathname.split("/");
    switch (route) {
      case "bytes": {
        const body = bodyBytes(Number(arg));
        return new Response(body, { headers: { "content-length": String(body.length) } });
      }
      case "status": {
        const echo = url.searchParams.get("echo");
        const said = echo ? ` (you sent ${echo}: ${request.headers.get(echo)})` : "";
        return new Response(`status ${arg} from the fault server${said}\n`, {
          status: Number(arg),
        });
      }
      case "flaky": {
        const status = query("status", 503);
        if (count <= query("fail", 1)) {
          const headers = new Headers();
          if (url.searchParams.has("after")) headers.set("retry-after", String(query("after", 0)));
          if (url.searchParams.has("after_date")) {
            const at = new Date(Date.now() + query("after_date", 0) * 1000);
            headers.set("retry-after", at.toUTCString());
          }
          return new Response(`try again (${count})\n`, { status, headers });
        }
        return new Response(bodyBytes(64));
      }
      case "short": {
        const n = Number(arg);
        return new Response(breakingBody(bodyBytes(Math.floor(n / 2))), {
          headers: { "content-length": String(n) },
        });
      }
      case "hold": {
        const { arrived, go } = gateFor(arg);
        arrived.resolve();
        await Promise.race([go.promise, closed]);
        return new Response(bodyBytes(16));
      }
      case "stall": {
        gateFor("stall").arrived.resolve();
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await closed;
            controller.close();
          },
        });
        return new Response(body);
      }
      case "drip": {
        let timer: ReturnType<typeof setInterval> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            const stop = () => {
              clearInterval(timer);
              try {
                controller.close();
              } catch { /* already cancelled by the client */ }
            };
            timer = setInterval(() => controller.enqueue(new Uint8Array([42])), 20);
            closing.addEventListener("abort", stop, { once: true });
          },
          cancel() {
            clearInterval(timer);
          },
        });
        return new Response(body);
      }
      case "endless": {
        const chunk = bodyBytes(64 * 1024);
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (closing.aborted) controller.close();
            else controller.enqueue(chunk.slice());
          },
        });
        return new Response(body);
      }
      case "file":
        return fileResponse(request, url, arg, count, closed);
      case "gzip": {
        if (count <= query("fail", 1)) {
          const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
          const corrupt = new Uint8Array([...header, ...bodyBytes(500)]);
          return new Response(corrupt, { headers: { "content-encoding": "gzip" } });
        }
        const gzipped = await new Response(
          new Blob([bodyBytes(1000)]).stream().pipeThrough(new CompressionStream("gzip")),
        ).bytes();
        return new Response(gzipped, { headers: { "content-encoding": "gzip" } });
      }
      case "redirect": {
        const n = Number(arg);
        if (n <= 0) return new Response(bodyBytes(64));
        return Response.redirect(new URL(`/redirect/${n - 1}`, url), 302);
      }
      case "loop":
        return Response.redirect(new URL(`/loop/${arg === "A" ? "B" : "A"}`, url), 302);
      case "to":
        return new Response(null, {
          status: 302,
          headers: { location: url.searchParams.get("url") ?? "/" },
        });
      case "together": {
        const n = query("n", 2);
        let group = together.get(arg);
        if (!group) together.set(arg, group = { inFlight: 0, waiting: [] });
        group.inFlight++;
        mostInFlight.set(arg, Math.max(mostInFlight.get(arg) ?? 0, group.inFlight));
        const { promise, resolve } = Promise.withResolvers<void>();
        group.waiting.push(resolve);
        if (group.waiting.length >= n) { for (const go of group.waiting.splice(0)) go(); }
        await Promise.race([promise, closed]);
        group.inFlight--;
        return new Response(bodyBytes(16));
      }
      default:
        return new Response("no such route\n", { status: 404 });
    }
  });

  /** `/file/NAME`: validators, conditional requests and ranges, with injected breaks. */
  function fileResponse(
    request: Request,
    url: URL,
    name: string,
    count: number,
    closed: Promise<void>,
  ): Response {
    const version = versions.get(name) ?? 1;
    const size = Number(url.searchParams.get("size") ?? 100_000);
    const bytes = fileBytes(size, version);
    const etag = `"${name}-v${version}"`;
    const lastModified = new Date(Date.UTC(2026, 0, version)).toUTCString();
    const headers = new Headers({ "accept-ranges": "bytes" });
    if (url.searchParams.get("etag") !== "0") headers.set("etag", etag);
    const lm = url.searchParams.get("lm");
    if (lm !== "0") headers.set("last-modified", lm ?? lastModified);
    const current = (validator: string | null) =>
      validator !== null && (validator === headers.get("etag") ||
        validator === headers.get("last-modified"));

    const ifNoneMatch = request.headers.get("if-none-match");
    const ifModifiedSince = request.headers.get("if-modified-since");
    if (
      (ifNoneMatch !== null && ifNoneMatch === headers.get("etag")) ||
      (ifNoneMatch === null && ifModifiedSince !== null && current(ifModifiedSince))
    ) {
      return new Response(null, { status: 304, headers });
    }

    if (url.searchParams.has("tag")) headers.set("etag", `"${url.searchParams.get("tag")}"`);
    if (url.searchParams.has("cd")) {
      headers.set("content-disposition", `attachment; filename="${url.searchParams.get("cd")}"`);
    }
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
    const ifRange = request.headers.get("if-range");
    let status = 200;
    if (
      range && url.searchParams.get("norange") !== "1" && (ifRange === null || current(ifRange))
    ) {
      start = Number(range[1]);
      if (start >= size) {
        headers.set("content-range", `bytes */${size}`);
        return new Response(null, { status: 416, headers });
      }
      status = 206;
      if (range[2]) end = Math.min(size - 1, Number(range[2]));
      headers.set("content-range", `bytes ${start}-${end}/${size}`);
    }
    const body = bytes.subarray(start, end + 1);
    headers.set("content-length", String(body.length));
    if (count <= Number(url.searchParams.get("stall") ?? 0)) {
      return new Response(stallingBody(body.slice(0, Math.floor(body.length / 2)), closed), {
        status,
        headers,
      });
    }
    if (count <= Number(url.searchParams.get("cut") ?? 0)) {
      if (url.searchParams.get("change") === "1") versions.set(name, version + 1);
      return new Response(breakingBody(body.slice(0, Math.floor(body.length / 2))), {
        status,
        headers,
      });
    }
    const cap = Number(url.searchParams.get("cap") ?? 0);
    if (cap > 0) return new Response(cappedBody(body, cap, closed), { status, headers });
    return new Response(body, { status, headers });
  }

  return {
    url: server.url,
    hits,
    requests,
    connections,
    mostInFlight,
    started: (key) => gateFor(key).arrived.promise,
    release: (key) => gateFor(key).go.resolve(),
    version: (name) => versions.get(name) ?? 1,
    bump: (name) => void versions.set(name, (versions.get(name) ?? 1) + 1),
    [Symbol.asyncDispose]: () => server.close(),
  };
}
