/**
 * Writing a response body into the `.part` file, counted and hashed on the way, with two
 * paths:
 *
 * - the fast path, for a body of known length: `body.pipeTo(file.writable)`, which Deno runs
 *   from socket to file without handing chunks to JavaScript, while the JavaScript thread
 *   follows the growing file and hashes what lands (it would otherwise sit idle). Measured on
 *   1 GiB here: 2.9-3.4 s, against 3.9 s for the chunk loop and 2.1 s for curl -o.
 * - the chunk loop, for anything else (no length, compressed): each chunk counted against
 *   `max_bytes`, hashed and written.
 *
 * @module
 */
import type { Digests } from "./digests.ts";
import type { IdleWatchdog } from "./idle_watchdog.ts";

/** Where and how a body is written. */
export interface BodySink {
  /** The `.part` path. */
  part: string;
  /** Bytes already in the `.part` (resuming), already hashed; 0 for a new file. */
  offset: number;
  digests: Digests;
  watchdog: IdleWatchdog;
  /** The most bytes the whole file may have. */
  maxBytes: number;
  /** The error to throw past `maxBytes`. */
  tooLarge: () => Error;
  signal: AbortSignal;
  /** Reports the bytes of this body received so far (what the progress display adds up). */
  progress: ((bytes: number) => void) | undefined;
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
 * Writes `body` after `sink.offset` bytes of the `.part`. `knownLength` picks the fast path
 * (the HTTP layer then cannot deliver more than that length).
 */
export function writeBody(
  body: ReadableStream<Uint8Array>,
  sink: BodySink,
  options: { knownLength: boolean },
): Promise<Written> {
  return options.knownLength ? pipeBody(body, sink) : loopBody(body, sink);
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

async function pipeBody(body: ReadableStream<Uint8Array>, sink: BodySink): Promise<Written> {
  const { part, offset, digests, watchdog, signal, progress } = sink;
  const file = openPart(part, offset > 0);
  using follower = Deno.openSync(part, { read: true });
  follower.seekSync(offset, Deno.SeekMode.Start);
  let finished = false;
  // pipeTo closes the file when the body ends or fails.
  const piping = body.pipeTo(file.writable, { signal }).finally(() => finished = true);
  piping.catch(() => {}); // observed below
  const buffer = new Uint8Array(256 * 1024);
  let received = 0;
  let reported = 0;
  for (;;) {
    const wasFinished = finished;
    const n = follower.readSync(buffer);
    if (n !== null && n > 0) {
      digests.update(buffer.subarray(0, n));
      received += n;
      watchdog.feed(n);
      if (received - reported >= PROGRESS_EVERY) {
        reported = received;
        progress?.(received);
      }
      continue;
    }
    if (wasFinished) break; // the writer was done before this read found the end
    // Caught up with the writer: wait for more bytes, or for the end.
    await untilEndOr(piping, 2);
  }
  await piping;
  progress?.(received);
  return { received, mtimeMs: follower.statSync().mtime?.getTime() ?? 0 };
}

async function loopBody(body: ReadableStream<Uint8Array>, sink: BodySink): Promise<Written> {
  const { part, offset, digests, watchdog, maxBytes, progress } = sink;
  using file = openPart(part, offset > 0);
  const reader = body.getReader();
  let received = 0;
  let reported = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (offset + received > maxBytes) throw sink.tooLarge();
      digests.update(value);
      watchdog.feed(value.byteLength);
      // A synchronous write of one chunk to the page cache costs far less than an async op's
      // round trip through the thread pool (measured: 3.6 s against 6.5 s per GiB).
      let written = 0;
      while (written < value.byteLength) written += file.writeSync(value.subarray(written));
      if (received - reported >= PROGRESS_EVERY) {
        reported = received;
        progress?.(received);
      }
    }
  } finally {
    reader.releaseLock();
  }
  progress?.(received);
  return { received, mtimeMs: file.statSync().mtime?.getTime() ?? 0 };
}

/** Waits until `piping` settles or `ms` pass, whichever is first, leaving no timer behind. */
async function untilEndOr(piping: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  try {
    await Promise.race([piping.then(noop, noop), elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

function noop() {}
