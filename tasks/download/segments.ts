/**
 * Split downloads (`segments: N`, aria2's `--split`): a file of known length fetched in N
 * ranges over N connections at once, each written at its place in one `.part` that was sized
 * to the whole file first. A range that fails stops the others; what each had written is kept
 * (`[start, end, done]` per range) so that the next attempt or run resumes every range where it
 * stopped. The whole file is verified once it is complete, as a single stream would be.
 *
 * @module
 */
import { IncompleteBodyError } from "../../lib/http/errors.ts";
import type { HttpResponse } from "../../lib/http/client.ts";
import type { IdleWatchdog } from "./idle_watchdog.ts";
import type { Pacer } from "./bandwidth.ts";

/** The smallest range worth a connection of its own. */
export const MIN_SEGMENT = 1024 * 1024;

/** One range of the file: `[start, end, done]`, end exclusive, `done` bytes written. */
export type Segment = [number, number, number];

/**
 * The ranges of a file of `total` bytes in at most `count` parts of at least
 * {@linkcode MIN_SEGMENT} each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitRanges } from "./segments.ts";
 * assert.deepEqual(splitRanges(4 * 2 ** 20, 2), [[0, 2 ** 21, 0], [2 ** 21, 2 ** 22, 0]]);
 * assert.equal(splitRanges(3 * 2 ** 20, 8).length, 3);
 * assert.equal(splitRanges(100, 8).length, 1);
 * ```
 */
export function splitRanges(total: number, count: number): Segment[] {
  const parts = Math.max(1, Math.min(count, Math.floor(total / MIN_SEGMENT)));
  const segments: Segment[] = [];
  for (let i = 0; i < parts; i++) {
    segments.push([Math.floor((total * i) / parts), Math.floor((total * (i + 1)) / parts), 0]);
  }
  return segments;
}

/** What {@linkcode fetchSegments} needs. */
export interface SegmentsOptions {
  part: string;
  /** The ranges, updated in place as bytes are written. */
  segments: Segment[];
  /** A response already streaming the first range from its start (open-ended), if any. */
  first?: HttpResponse | undefined;
  /** Requests bytes `from`..`to` (inclusive); resolves with a 206 that starts at `from`. */
  request: (from: number, to: number, signal: AbortSignal) => Promise<HttpResponse>;
  pacer: Pacer | undefined;
  watchdog: IdleWatchdog;
  signal: AbortSignal;
  /** Reports the bytes received by this call so far. */
  progress: ((bytes: number) => void) | undefined;
}

const PROGRESS_EVERY = 256 * 1024;
const READ_MOST = 1024 * 1024;

/**
 * Fetches every unfinished range at once into the `.part`; returns the bytes received. On a
 * failure the others are stopped, the ranges say what was written, and the first error is
 * thrown.
 */
export async function fetchSegments(options: SegmentsOptions): Promise<number> {
  const { segments, signal } = options;
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  let received = 0;
  let reported = 0;
  const count = (n: number) => {
    received += n;
    options.watchdog.feed(n);
    if (received - reported >= PROGRESS_EVERY) {
      reported = received;
      options.progress?.(received);
    }
  };
  let failure: { error: unknown } | undefined;
  let firstUsed = false;
  await Promise.all(segments.map(async (segment) => {
    if (segment[2] >= segment[1] - segment[0]) return;
    let response: HttpResponse | undefined;
    try {
      if (segment[0] === 0 && segment[2] === 0 && options.first && !firstUsed) {
        firstUsed = true;
        response = options.first;
      } else {
        response = await options.request(segment[0] + segment[2], segment[1] - 1, both);
      }
      using file = Deno.openSync(options.part, { write: true });
      file.seekSync(segment[0] + segment[2], Deno.SeekMode.Start);
      while (segment[2] < segment[1] - segment[0]) {
        const left = segment[1] - segment[0] - segment[2];
        const chunk = await response.body.read(
          Math.min(left, options.pacer?.readSize ?? READ_MOST),
        );
        if (!chunk) {
          throw new IncompleteBodyError(
            `a range closed at byte ${segment[0] + segment[2]} of ${segment[0]}-${segment[1] - 1}`,
          );
        }
        let written = 0;
        while (written < chunk.byteLength) written += file.writeSync(chunk.subarray(written));
        segment[2] += chunk.byteLength;
        count(chunk.byteLength);
        await options.pacer?.pace(chunk.byteLength, both);
      }
    } catch (error) {
      failure ??= { error: signal.aborted ? signal.reason : error };
      stop.abort(failure.error);
    } finally {
      await response?.body.cancel();
    }
  }));
  options.progress?.(received);
  if (failure) throw failure.error;
  return received;
}
