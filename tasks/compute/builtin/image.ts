/**
 * Image work on downloaded files: `thumbnail` (a PNG that fits in a square, for `compute.to`)
 * and `histogram` (size and colour statistics). PNG is decoded with `fast-png`, JPEG with
 * `jpeg-js` (both pure JavaScript, so they run in a Worker under least privilege).
 *
 * ```yaml
 * - name: thumbs
 *   needs: [album]
 *   compute: { module: builtin:image, export: thumbnail, args: [64], to: "thumbs/{n}.png" }
 *   matrix: [[album/img-01.png], [album/img-02.png]]
 * ```
 *
 * @module
 */
import { decode as decodePng, encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { resolve } from "../../../lib/util/posix_path.ts";
import { isInside } from "../../../lib/util/paths.ts";
import type { ComputeContext } from "../job.ts";

/** Decoded pixels: 8 bits per channel, `channels` interleaved, rows top to bottom. */
export interface Pixels {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  data: Uint8Array;
}

/** What {@linkcode histogram} returns. */
export interface ImageStats {
  format: "png" | "jpeg";
  width: number;
  height: number;
  channels: number;
  /** Mean of each channel, 0-255. */
  mean: number[];
  /** 16 bins of 16 levels per channel. */
  histogram: number[][];
}

/** The longest side of a thumbnail when no size is given. */
const DEFAULT_SIDE = 128;
/** The largest image decoded, in pixels, so that a hostile file cannot exhaust the heap. */
const MAX_PIXELS = 100_000_000;

/**
 * A PNG of the image at `path` (under the output folder), scaled down with a box filter to fit
 * in `side` x `side` pixels (default 128), keeping its aspect ratio; never scaled up.
 * Call as `thumbnail(path, context)` or `thumbnail(side, path, context)` (so that a `matrix`
 * can append the path to `args: [side]`).
 */
export async function thumbnail(...args: unknown[]): Promise<Uint8Array> {
  const { path, side, context } = thumbnailArgs(args);
  const { pixels } = await readImage(path, context);
  return encodePng(scaleToFit(pixels, side));
}

/** Size, per-channel means and 16-bin histograms of the image at `path` (under the output). */
export async function histogram(path: unknown, context: ComputeContext): Promise<ImageStats> {
  const { format, pixels } = await readImage(path, context);
  const { width, height, channels, data } = pixels;
  const sums = new Array<number>(channels).fill(0);
  const bins = Array.from({ length: channels }, () => new Array<number>(16).fill(0));
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const value = data[i + c]!;
      sums[c]! += value;
      bins[c]![value >> 4]!++;
    }
  }
  const count = width * height;
  const mean = sums.map((sum) => Math.round((sum / count) * 100) / 100);
  return { format, width, height, channels, mean, histogram: bins };
}

function thumbnailArgs(args: unknown[]): { path: unknown; side: number; context: ComputeContext } {
  const context = args.at(-1) as ComputeContext;
  const given = args.slice(0, -1);
  if (given.length < 1 || given.length > 2) {
    throw new TypeError(`thumbnail takes ([side,] path): got ${given.length} arguments`);
  }
  const [side, path] = given.length === 2 ? given : [DEFAULT_SIDE, given[0]];
  if (typeof side !== "number" || !Number.isInteger(side) || side < 1 || side > 4096) {
    throw new RangeError(`thumbnail size must be a whole number of pixels, 1-4096: got ${side}`);
  }
  return { path, side, context };
}

/** Reads and decodes a PNG or JPEG under the output folder. */
async function readImage(
  path: unknown,
  context: ComputeContext,
): Promise<{ format: "png" | "jpeg"; pixels: Pixels }> {
  if (typeof path !== "string") throw new TypeError(`needs an image path: got ${typeof path}`);
  const target = resolve(context.output, path);
  if (!isInside(context.output, target)) {
    throw new RangeError(`reads images only under the output folder: got "${path}"`);
  }
  const bytes = await Deno.readFile(target);
  if (isPng(bytes)) return { format: "png", pixels: pngPixels(bytes) };
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return { format: "jpeg", pixels: jpegPixels(bytes) };
  throw new TypeError(`${path} is neither a PNG nor a JPEG`);
}

function isPng(bytes: Uint8Array): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return signature.every((byte, i) => bytes[i] === byte);
}

function pngPixels(bytes: Uint8Array): Pixels {
  const image = decodePng(bytes);
  const { width, height } = image;
  if (width * height > MAX_PIXELS) throw new RangeError(`image too large: ${width}x${height}`);
  if (image.palette) {
    // Indexed colour: look every pixel up (the palette has RGB or RGBA entries).
    const palette = image.palette;
    const channels = palette[0]?.length ?? 3;
    const data = new Uint8Array(width * height * channels);
    for (let i = 0; i < width * height; i++) {
      const entry = palette[indexAt(image.data, image.depth, width, i)] ?? [];
      for (let c = 0; c < channels; c++) data[i * channels + c] = entry[c] ?? 0;
    }
    return { width, height, channels, data };
  }
  const { channels } = image;
  const count = width * height * channels;
  const data = new Uint8Array(count);
  if (image.depth === 8) data.set(image.data.subarray(0, count));
  else if (image.depth === 16) { for (let i = 0; i < count; i++) data[i] = image.data[i]! >> 8; }
  else {
    // 1, 2 or 4 bits a sample, rows padded to a byte: spread over 0-255.
    const max = (1 << image.depth) - 1;
    for (let i = 0; i < width * height; i++) {
      data[i] = Math.round((indexAt(image.data, image.depth, width, i) * 255) / max);
    }
  }
  return { width, height, channels, data };
}

/** Sample `i` of a packed image of `depth` bits per sample whose rows start on a byte. */
function indexAt(data: ArrayLike<number>, depth: number, width: number, i: number): number {
  if (depth >= 8) return data[i]!;
  const rowBytes = Math.ceil((width * depth) / 8);
  const y = Math.floor(i / width);
  const bit = (i % width) * depth;
  const byte = data[y * rowBytes + (bit >> 3)]!;
  return (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

function jpegPixels(bytes: Uint8Array): Pixels {
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_PIXELS / 1e6,
    maxMemoryUsageInMB: 1024,
  });
  return { width: image.width, height: image.height, channels: 3, data: image.data };
}

/** Box-filter downscale to fit in `side` x `side`; a smaller image is returned as it is. */
export function scaleToFit(pixels: Pixels, side: number): Pixels {
  const { width, height, channels, data } = pixels;
  const scale = Math.min(1, side / Math.max(width, height));
  if (scale === 1) return pixels;
  const outWidth = Math.max(1, Math.round(width * scale));
  const outHeight = Math.max(1, Math.round(height * scale));
  const out = new Uint8Array(outWidth * outHeight * channels);
  const sums = new Float64Array(channels);
  for (let y = 0; y < outHeight; y++) {
    const y0 = Math.floor((y * height) / outHeight);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / outHeight));
    for (let x = 0; x < outWidth; x++) {
      const x0 = Math.floor((x * width) / outWidth);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / outWidth));
      sums.fill(0);
      for (let sy = y0; sy < y1; sy++) {
        let at = (sy * width + x0) * channels;
        for (let sx = x0; sx < x1; sx++) {
          for (let c = 0; c < channels; c++) sums[c]! += data[at + c]!;
          at += channels;
        }
      }
      const area = (y1 - y0) * (x1 - x0);
      const to = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = Math.round(sums[c]! / area);
    }
  }
  return { width: outWidth, height: outHeight, channels, data: out };
}
