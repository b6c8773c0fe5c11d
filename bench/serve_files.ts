/**
 * The download benchmark's server, in its own process so it does not share the event loop it
 * measures. Prints its base URL as one line on stdout, then serves until killed.
 *
 * - `/f/NAME?bytes=N&latency=MS`  N bytes after MS of latency
 * - `/blob?bytes=N`               N bytes streamed in 1 MiB chunks, no latency
 * - `/gzip-zeros?bytes=N`         `Content-Encoding: gzip` of N zero bytes (about N / 1000 sent)
 *
 * Usage: deno run --allow-net bench/serve_files.ts
 */
import { serveLoopback } from "../lib/util/serve_loopback.ts";

const CHUNK = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
const small = new Map<number, Uint8Array<ArrayBuffer>>();
const gzipped = new Map<number, Uint8Array<ArrayBuffer>>();

/** The gzip of `size` zero bytes. */
async function gzipOfZeros(size: number): Promise<Uint8Array<ArrayBuffer>> {
  const zeros = new Uint8Array(1024 * 1024);
  let left = size;
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      const n = Math.min(left, zeros.length);
      controller.enqueue(zeros.subarray(0, n));
      left -= n;
      if (left === 0) controller.close();
    },
  }).pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const server = serveLoopback(async (request) => {
  const url = new URL(request.url);
  const bytes = Number(url.searchParams.get("bytes") ?? 65536);
  if (url.pathname.startsWith("/f/")) {
    const latency = Number(url.searchParams.get("latency") ?? 0);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    let body = small.get(bytes);
    if (!body) small.set(bytes, body = new Uint8Array(bytes).map((_, i) => (i * 31 + 7) & 0xff));
    return new Response(body, { headers: { "content-length": String(bytes) } });
  }
  if (url.pathname === "/blob") {
    let left = bytes;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const n = Math.min(left, CHUNK.length);
        controller.enqueue(CHUNK.subarray(0, n));
        left -= n;
        if (left === 0) controller.close();
      },
    });
    return new Response(body, { headers: { "content-length": String(bytes) } });
  }
  if (url.pathname === "/gzip-zeros") {
    let body = gzipped.get(bytes);
    if (!body) gzipped.set(bytes, body = await gzipOfZeros(bytes));
    return new Response(body, { headers: { "content-encoding": "gzip" } });
  }
  return new Response("not found\n", { status: 404 });
});
console.log(server.url);
