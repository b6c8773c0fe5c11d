/**
 * The download benchmark's server, in its own process so it does not share the event loop it
 * measures. Prints its base URL as one line on stdout, then serves until killed.
 *
 * - `/f/NAME?bytes=N&latency=MS`  N bytes after MS of latency
 * - `/blob?bytes=N`               N bytes streamed in 1 MiB chunks, no latency
 * - `/gzip-zeros?bytes=N`         `Content-Encoding: gzip` of N zero bytes (about N / 1000 sent)
 * - `/ranged/NAME?bytes=N&cap=B`  N bytes with an ETag, answering `Range` (206), each response
 *                                 sent at most B bytes a second (a per-connection cap)
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
  if (url.pathname.startsWith("/ranged/")) return ranged(request, bytes, url);
  if (url.pathname === "/gzip-zeros") {
    let body = gzipped.get(bytes);
    if (!body) gzipped.set(bytes, body = await gzipOfZeros(bytes));
    return new Response(body, { headers: { "content-encoding": "gzip" } });
  }
  return new Response("not found\n", { status: 404 });
});
console.log(server.url);

/** `/ranged/NAME`: one range (or all) of N bytes, paced to `cap` bytes a second. */
function ranged(request: Request, size: number, url: URL): Response {
  const cap = Number(url.searchParams.get("cap") ?? 0);
  const headers = new Headers({ "accept-ranges": "bytes", etag: `"${size}"` });
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
  if (range && Number(range[1]) < size) {
    start = Number(range[1]);
    if (range[2]) end = Math.min(end, Number(range[2]));
    status = 206;
    headers.set("content-range", `bytes ${start}-${end}/${size}`);
  }
  headers.set("content-length", String(end - start + 1));
  let at = start;
  const began = performance.now();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at > end) return controller.close();
      const n = Math.min(end - at + 1, 64 * 1024, CHUNK.length - (at % CHUNK.length));
      if (cap > 0) {
        // Not ahead of the cap: the bytes sent so far may have taken no less than their time.
        const due = began + ((at - start + n) / cap) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      controller.enqueue(CHUNK.subarray(at % CHUNK.length, (at % CHUNK.length) + n));
      at += n;
    },
  });
  return new Response(body, { status, headers });
}
