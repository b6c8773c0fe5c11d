/**
 * Writing a response body into the `.part` file, counted (and hashed, when the job needs a
 * digest) on the way:
 *
 * - a body of known length up to {@linkcode SMALL_BODY} is read whole into one array and
 *   written with one async write: the fewest ops per file, which is what many small files cost.
 *   At most `io` of them are held at once, so memory stays bounded.
 * - anything else is a loop over the body's views (taskpool's HTTP client hands out views of its
 *   connection buffer, up to 1 MiB each): counted against `max_bytes`, hashed if needed and
 *   written synchronously. A synchronous write of one chunk to the page cache costs far less
 *   than an async op's round trip through the thread pool, and the view is reused by the next
 *   read, so it must be written before that.
 *
 * @module
 */
import type { HttpBody } from "../../lib/http/body.ts";
import type { Digests } from "./digests.ts";
import type { IdleWatchdog } from "./idle_watchdog.ts";
import type { Pacer } from "./bandwidth.ts";

/** Where and how a body is written. */
export interface BodySink {
  /** The `.part` path. */
  part: string;
  /** Bytes already in the `.part` (resuming), already hashed; 0 for a new file. */
  offset: number;
  /** What to hash the body with; undefined when the job needs no digest. */
  digests: Digests | undefined;
  watchdog: IdleWatchdog;
  /** The most bytes the whole file may have. */
  maxBytes: number;
  /** The error to throw past `maxBytes`. */
  tooLarge: () => Error;
  /** Reports the bytes of this body received so far (what the progress display adds up). */
  progress: ((bytes: number) => void) | undefined;
  /** Paces the reads to the run's bandwidth limits; undefined for none. */
  pacer?: Pacer | undefined;
  /** Stops a paced wait. */
  signal?: AbortSignal | undefined;
}

/** What was written. */
export interface Written {
  /** Bytes of this body written (after `offset`). */
  received: number;
  /** The file's mtime when complete. */
  mtimeMs: number;
}

/** Bytes between two progress reports of one transfer. */
const PROGRESS_EVERY = 256 * 1024;

/**
 * The largest body read whole into memory. A body this small that takes all of `idle_timeout`
 * to arrive is fed to the idle watchdog only at its end, so it fails as idle: at the default
 * 30 s that is slower than 2 KiB/s.
 */
export const SMALL_BODY = 64 * 1024;

/** Writes `body` after `sink.offset` bytes of the `.part`. */
export function writeBody(body: HttpBody, sink: BodySink): Promise<Written> {
  const { length } = body;
  if (length !== undefined && length <= SMALL_BODY && !sink.pacer) return smallBody(body, sink);
  return loopBody(body, sink);
}

/** Opens the `.part`: to append when resuming, else as a new file (replacing a stale one). */
export function openPart(part: string, append: boolean): Deno.FsFile {
  if (append) return Deno.openSync(part, { write: true, append: true });
  try {
    return Deno.openSync(part, { write: true, createNew: true });
  } catch (error) {
    // A stale .part, or a symlink planted under its name: removed, never followed.
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    Deno.removeSync(part);
    return Deno.openSync(part, { write: true, createNew: true });
  }
}

async function smallBody(body: HttpBody, sink: BodySink): Promise<Written> {
  // An abort (the run's, the watchdog's) closes the connection, which ends the read.
  return await body.whole((bytes) => {
    sink.digests?.update(bytes);
    sink.watchdog.feed(bytes.byteLength);
    writePart(sink.part, bytes, sink.offset > 0);
    sink.progress?.(bytes.byteLength);
    return { received: bytes.byteLength, mtimeMs: mtimeOf(sink.part) };
  });
}

/**
 * Writes a whole small body to the `.part` in one call that opens, writes and closes: each file
 * operation is a trip into Deno and, under narrow permissions, a check of its path. Synchronous,
 * since handing 64 KiB to another thread and back costs more than the copy. Appended when
 * resuming; else a new file, replacing a stale one as {@linkcode openPart} does.
 */
function writePart(part: string, bytes: Uint8Array, append: boolean): void {
  if (append) return Deno.writeFileSync(part, bytes, { append: true, create: false });
  try {
    Deno.writeFileSync(part, bytes, { createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    Deno.removeSync(part);
    Deno.writeFileSync(part, bytes, { createNew: true });
  }
}

/**
 * The modification time of the `.part`, by its path: under narrow permissions Deno checks an
 * open file's `stat` at about twice the cost of an `lstat` of its path.
 */
function mtimeOf(part: string): number {
  return Deno.lstatSync(part).mtime?.getTime() ?? 0;
}

async function loopBody(body: HttpBody, sink: BodySink): Promise<Written> {
  const { part, offset, digests, watchdog, maxBytes, progress, pacer } = sink;
  const signal = sink.signal ?? new AbortController().signal;
  using file = openPart(part, offset > 0);
  let received = 0;
  let reported = 0;
  const most = pacer?.readSize;
  for (let chunk = await body.read(most); chunk; chunk = await body.read(most)) {
    received += chunk.byteLength;
    if (offset + received > maxBytes) throw sink.tooLarge();
    digests?.update(chunk);
    watchdog.feed(chunk.byteLength);
    let written = 0;
    while (written < chunk.byteLength) written += file.writeSync(chunk.subarray(written));
    if (received - reported >= PROGRESS_EVERY) {
      reported = received;
      progress?.(received);
    }
    // The next read waits for the limit: the socket is not read meanwhile, so TCP slows the
    // sender down.
    if (pacer) await pacer.pace(chunk.byteLength, signal);
  }
  progress?.(received);
  return { received, mtimeMs: mtimeOf(part) };
}
