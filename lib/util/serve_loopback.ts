/**
 * An HTTP server on 127.0.0.1 and a free port, stopped by disposing it. The demo's album server
 * and the tests' fault server are both built on it.
 *
 * @module
 */

/** A running loopback server. */
export interface LoopbackServer extends AsyncDisposable {
  /** Base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** Aborted when the server starts closing: handlers that wait should stop waiting. */
  closing: AbortSignal;
  /** Stops the server and waits until it has. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 at a free port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveLoopback } from "./serve_loopback.ts";
 * await using server = serveLoopback(() => new Response("hi"));
 * assert(await (await fetch(server.url)).text() === "hi");
 * ```
 */
export function serveLoopback(
  handler: (
    request: Request,
    closing: AbortSignal,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
): LoopbackServer {
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen: () => {},
  }, (request, info) => handler(request, controller.signal, info));
  const close = async () => {
    controller.abort();
    await server.finished;
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    closing: controller.signal,
    close,
    [Symbol.asyncDispose]: close,
  };
}
