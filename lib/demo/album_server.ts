/**
 * A small HTTP server on 127.0.0.1 serving a synthetic photo album: deterministic PNG images
 * of about the chosen sizes, each answered after a simulated latency. It stands in for the tutorials'
 * image site so the demo, the tests and the benchmarks need no network.
 *
 * @module
 */
import { encode } from "fast-png";
import { serveLoopback } from "../util/serve_loopback.ts";
import { sleep } from "../util/sleep.ts";

/** Options for {@linkcode startAlbumServer}. */
export interface AlbumServerOptions {
  /** How many images. @default 24 */
  images?: number;
  /** Smallest image in bytes. @default 50 KiB */
  minBytes?: number;
  /** Largest image in bytes. @default 300 KiB */
  maxBytes?: number;
  /** Delay before each response, in ms. @default 80 */
  latencyMs?: number;
}

/** One image of the album. */
export interface AlbumImage {
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** A running album server; dispose it to stop it. */
export interface AlbumServer extends AsyncDisposable {
  /** Base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  images: AlbumImage[];
  /** Image URLs, in album order. */
  imageUrls: string[];
  /** Stops the server and waits for it. */
  close(): Promise<void>;
}

/**
 * Starts the album server on a free loopback port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startAlbumServer } from "./album_server.ts";
 * await using album = startAlbumServer({ images: 2, latencyMs: 0 });
 * const response = await fetch(album.imageUrls[0]!);
 * assert((await response.bytes()).length === album.images[0]!.bytes.length);
 * ```
 */
export function startAlbumServer(options: AlbumServerOptions = {}): AlbumServer {
  const { images: count = 24, minBytes = 50 * 1024, maxBytes = 300 * 1024, latencyMs = 80 } =
    options;
  const images = Array.from({ length: count }, (_, i) => {
    const target = count === 1 ? minBytes : minBytes + ((maxBytes - minBytes) * i) / (count - 1);
    return { name: `img-${String(i + 1).padStart(2, "0")}.png`, bytes: makePng(target, i) };
  });
  const byPath = new Map(images.map((image) => [`/album/${image.name}`, image]));
  const server = serveLoopback(async (request, closing) => {
    const path = new URL(request.url).pathname;
    if (latencyMs > 0) await sleep(latencyMs, { signal: closing }).catch(() => {});
    if (path === "/album/" || path === "/album") {
      return new Response(images.map((image) => image.name).join("\n") + "\n");
    }
    const image = byPath.get(path);
    if (!image) return new Response("not found\n", { status: 404 });
    return new Response(image.bytes, {
      headers: { "content-type": "image/png", "content-length": String(image.bytes.length) },
    });
  });
  const { url, close } = server;
  return {
    url,
    images,
    imageUrls: images.map((image) => `${url}/album/${image.name}`),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * An RGB PNG of about `targetBytes`: a gradient that depends on `seed`, with 5 bits of
 * deterministic noise a pixel so that it compresses no better than a photo.
 */
export function makePng(targetBytes: number, seed: number): Uint8Array<ArrayBuffer> {
  const side = Math.max(1, Math.round(Math.sqrt(targetBytes / 3)));
  const data = new Uint8Array(side * side * 3);
  let noise = seed * 2654435761 + 12345;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      noise = (Math.imul(noise, 1103515245) + 12345) >>> 0;
      const grain = noise >>> 27;
      const at = (y * side + x) * 3;
      data[at] = ((x * 255) / side + seed * 37 + grain) & 0xff;
      data[at + 1] = ((y * 255) / side + seed * 11 + grain) & 0xff;
      data[at + 2] = ((x ^ y) + seed * 53 + grain) & 0xff;
    }
  }
  const png = encode({ width: side, height: side, data, channels: 3 });
  return new Uint8Array(png.buffer as ArrayBuffer, png.byteOffset, png.byteLength);
}
