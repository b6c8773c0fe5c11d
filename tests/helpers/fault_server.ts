/**
 * A loopback HTTP server with one route per behaviour the download code must handle. Start it
 * with `await using server = startFaultServer()`; every route is deterministic.
 *
 * Routes:
 * - `/bytes/N`            N deterministic bytes (see {@linkcode bodyBytes}), Content-Length set
 * - `/status/CODE`        that status with a short text body
 * - `/flaky/KEY?fail=N&status=S`  status S (default 503) for the first N requests of KEY, then 64 bytes
 * - `/short/N`            claims N bytes, sends half, then breaks the connection
 * - `/hold/KEY`           waits until `release(KEY)`; `started(KEY)` resolves when it arrives
 * - `/stall`              sends headers and never a body byte until the server closes;
 *                          `started("stall")` resolves when it arrives
 *
 * @module
 */
import { serveLoopback } from "../../lib/serve_loopback.ts";

/** A running fault server. */
export interface FaultServer extends AsyncDisposable {
  url: string;
  /** Requests seen per path (without the query). */
  hits: Map<string, number>;
  /** Resolves when a request for `/hold/KEY` has arrived. */
  started(key: string): Promise<void>;
  /** Lets `/hold/KEY` answer (200, 16 bytes). */
  release(key: string): void;
}

/** Deterministic content of `/bytes/N`. */
export function bodyBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 0xff;
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

/** Starts the server on a free 127.0.0.1 port. */
export function startFaultServer(): FaultServer {
  const hits = new Map<string, number>();
  const gates = new Map<string, ReturnType<typeof gate>>();
  const gateFor = (key: string) => {
    let found = gates.get(key);
    if (!found) gates.set(key, found = gate());
    return found;
  };
  const server = serveLoopback(async (request, closing) => {
    const closed = new Promise<void>((resolve) => {
      if (closing.aborted) resolve();
      closing.addEventListener("abort", () => resolve(), { once: true });
    });
    const url = new URL(request.url);
    const count = (hits.get(url.pathname) ?? 0) + 1;
    hits.set(url.pathname, count);
    const [, route = "", arg = ""] = url.pathname.split("/");
    switch (route) {
      case "bytes": {
        const body = bodyBytes(Number(arg));
        return new Response(body, { headers: { "content-length": String(body.length) } });
      }
      case "status":
        return new Response(`status ${arg} from the fault server\n`, { status: Number(arg) });
      case "flaky": {
        const fail = Number(url.searchParams.get("fail") ?? 1);
        const status = Number(url.searchParams.get("status") ?? 503);
        if (count <= fail) return new Response(`try again (${count})\n`, { status });
        return new Response(bodyBytes(64));
      }
      case "short": {
        const n = Number(arg);
        const half = bodyBytes(Math.floor(n / 2));
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(half);
            controller.error(new Error("connection broken on purpose"));
          },
        });
        return new Response(body, { headers: { "content-length": String(n) } });
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
      default:
        return new Response("no such route\n", { status: 404 });
    }
  });

  return {
    url: server.url,
    hits,
    started: (key) => gateFor(key).arrived.promise,
    release: (key) => gateFor(key).go.resolve(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}
