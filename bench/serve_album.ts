/**
 * The album server in its own process, so a benchmark's server does not share the event loop
 * it measures. Prints its base URL as one line on stdout, then serves until killed.
 *
 * Usage: deno run --allow-net bench/serve_album.ts IMAGES BYTES LATENCY_MS
 */
import { startAlbumServer } from "../lib/demo/album_server.ts";

const [images = "24", bytes = "65536", latency = "50"] = Deno.args;
const album = startAlbumServer({
  images: Number(images),
  minBytes: Number(bytes),
  maxBytes: Number(bytes),
  latencyMs: Number(latency),
});
console.log(album.url);
