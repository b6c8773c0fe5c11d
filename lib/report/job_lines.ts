/**
 * The report's job lines while a run goes: each job's JSON line is made when the job finishes and
 * kept by its place in the run's jobs, in memory or in a spool file, so that a run of a million
 * jobs holds neither its outcomes nor its report in memory. Read back in the jobs' order.
 *
 * @module
 */

/** Bytes gathered before a write to the spool file. */
const BUFFER_BYTES = 256 * 1024;

/** The widest stretch of the spool read at once for one block of lines. */
const SPAN_BYTES = 4 * 2 ** 20;

/**
 * Job lines by their job's place. With a `spool` path the lines go to that file (removed as soon
 * as it is open: nothing is left behind, whatever ends the process); without, they stay in memory.
 * Where the spool cannot be written (its disk is full), every line moves to memory and the run
 * goes on: no line is lost.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JobLines } from "./job_lines.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   using lines = new JobLines(3, `${dir}/spool`);
 *   lines.add(2, '{"name":"c"}');
 *   lines.add(0, '{"name":"a"}');
 *   assert.deepEqual([...Deno.readDirSync(dir)], []); // the spool has no name
 *   const text = new TextDecoder().decode(lines.read(0, 3).bytes);
 *   assert.equal(text, '{"name":"a"},\n{"name":"c"}');
 *   assert.deepEqual(lines.read(0, 3).missing, [1]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class JobLines implements Disposable {
  readonly #encoder = new TextEncoder();
  #strings: (string | undefined)[] | undefined;
  #file: Deno.FsFile | undefined;
  /** Where each line starts in the spool, -1 for none yet. */
  #offsets: Float64Array | undefined;
  #lengths: Uint32Array | undefined;
  #buffer = new Uint8Array(0);
  #buffered = 0;
  /** Bytes written to the spool so far. */
  #written = 0;
  /** The spool's path, when it could not be removed while open. */
  #unlinkLater: string | undefined;
  /** The memory reads reuse: a stretch of the spool, and the lines they return. */
  #span = new Uint8Array(0);
  #out = new Uint8Array(0);
  /** The spool was read since its last write: the next write seeks back to its end first. */
  #moved = false;

  /** Lines for `count` jobs, kept in the file `spool` (made anew) or, without one, in memory. */
  constructor(count: number, spool?: string) {
    if (spool === undefined) {
      this.#strings = new Array(count);
      return;
    }
    const file = Deno.openSync(spool, { read: true, write: true, createNew: true });
    try {
      Deno.removeSync(spool);
    } catch {
      // A system that cannot remove an open file: it goes when the lines are disposed of.
      this.#unlinkLater = spool;
    }
    this.#file = file;
    this.#offsets = new Float64Array(count).fill(-1);
    this.#lengths = new Uint32Array(count);
    this.#buffer = new Uint8Array(BUFFER_BYTES);
  }

  /** Keeps `line` (one line of JSON) as the line of the job at `index`. */
  add(index: number, line: string): void {
    if (this.#strings) {
      this.#strings[index] = line;
      return;
    }
    try {
      this.#spool(index, line);
    } catch (error) {
      this.#toMemory(error);
      this.#strings![index] = line;
    }
  }

  #spool(index: number, line: string): void {
    let { read, written } = this.#encoder.encodeInto(line, this.#buffer.subarray(this.#buffered));
    if (read < line.length) {
      this.#flush();
      ({ read, written } = this.#encoder.encodeInto(line, this.#buffer));
      if (read < line.length) {
        // Longer than the buffer: written on its own.
        const bytes = this.#encoder.encode(line);
        this.#write(bytes);
        this.#offsets![index] = this.#written - bytes.byteLength;
        this.#lengths![index] = bytes.byteLength;
        return;
      }
    }
    this.#offsets![index] = this.#written + this.#buffered;
    this.#lengths![index] = written;
    this.#buffered += written;
  }

  /** Whether the job at `index` has its line. */
  has(index: number): boolean {
    return this.#strings ? this.#strings[index] !== undefined : this.#offsets![index]! >= 0;
  }

  /**
   * The lines of the jobs from `start` to before `end` that have one, in order, joined by `,\n`
   * and the indent `indent`; and the places in that range that have none. From a spool, the bytes
   * are valid until the next read: each read reuses the memory of the one before.
   */
  read(start: number, end: number, indent = ""): { bytes: Uint8Array; missing: number[] } {
    const missing: number[] = [];
    const separator = this.#encoder.encode(`,\n${indent}`);
    if (this.#strings) {
      const lines: string[] = [];
      for (let index = start; index < end; index++) {
        const line = this.#strings[index];
        if (line === undefined) missing.push(index);
        else lines.push(line);
      }
      return { bytes: this.#encoder.encode(lines.join(`,\n${indent}`)), missing };
    }
    try {
      this.#flush();
    } catch (error) {
      this.#toMemory(error);
      return this.read(start, end, indent);
    }
    const offsets = this.#offsets!;
    const lengths = this.#lengths!;
    let low = Infinity;
    let high = 0;
    let size = 0;
    let count = 0;
    for (let index = start; index < end; index++) {
      const offset = offsets[index]!;
      if (offset < 0) {
        missing.push(index);
        continue;
      }
      low = Math.min(low, offset);
      high = Math.max(high, offset + lengths[index]!);
      size += lengths[index]!;
      count++;
    }
    const total = size + Math.max(0, count - 1) * separator.byteLength;
    this.#out = room(this.#out, total);
    const bytes = this.#out.subarray(0, total);
    if (count === 0) return { bytes, missing };
    // Jobs mostly finish near the order they start in: one read for the block's stretch of the
    // spool, unless its lines lie far apart.
    let span: Uint8Array | undefined;
    if (high - low <= SPAN_BYTES) {
      span = this.#span = room(this.#span, high - low);
      this.#readInto(low, span.subarray(0, high - low));
    }
    let at = 0;
    for (let index = start; index < end; index++) {
      const offset = offsets[index]!;
      if (offset < 0) continue;
      if (at > 0) {
        bytes.set(separator, at);
        at += separator.byteLength;
      }
      const length = lengths[index]!;
      if (span) bytes.set(span.subarray(offset - low, offset - low + length), at);
      else this.#readInto(offset, bytes.subarray(at, at + length));
      at += length;
    }
    return { bytes, missing };
  }

  [Symbol.dispose](): void {
    this.#file?.close();
    if (this.#unlinkLater !== undefined) {
      try {
        Deno.removeSync(this.#unlinkLater);
      } catch { /* gone already */ }
    }
  }

  /**
   * Moves every line to memory, after a write to the spool failed with `error`: those written
   * already are read back, the rest are in the buffer. Throws `error` where the spool cannot be
   * read either.
   */
  #toMemory(error: unknown) {
    const offsets = this.#offsets!;
    const lengths = this.#lengths!;
    const decoder = new TextDecoder();
    const strings: (string | undefined)[] = new Array(offsets.length);
    try {
      for (let index = 0; index < offsets.length; index++) {
        const offset = offsets[index]!;
        if (offset < 0) continue;
        const length = lengths[index]!;
        if (offset >= this.#written) {
          const at = offset - this.#written;
          strings[index] = decoder.decode(this.#buffer.subarray(at, at + length));
        } else {
          const bytes = new Uint8Array(length);
          this.#readInto(offset, bytes);
          strings[index] = decoder.decode(bytes);
        }
      }
    } catch {
      throw error;
    }
    this[Symbol.dispose]();
    this.#strings = strings;
    this.#file = this.#offsets = this.#lengths = undefined;
    this.#buffer = this.#span = this.#out = new Uint8Array(0);
    this.#buffered = 0;
  }

  #flush() {
    if (this.#buffered === 0) return;
    this.#write(this.#buffer.subarray(0, this.#buffered));
    this.#buffered = 0;
  }

  #write(bytes: Uint8Array) {
    const file = this.#file!;
    if (this.#moved) file.seekSync(this.#written, Deno.SeekMode.Start);
    this.#moved = false;
    // A failed write leaves #written where the last whole one ended: what lies after is unread.
    let at = 0;
    while (at < bytes.byteLength) at += file.writeSync(bytes.subarray(at));
    this.#written += bytes.byteLength;
  }

  /** Fills `bytes` from the spool, from `offset` on. */
  #readInto(offset: number, bytes: Uint8Array) {
    const file = this.#file!;
    file.seekSync(offset, Deno.SeekMode.Start);
    this.#moved = true;
    let at = 0;
    while (at < bytes.byteLength) {
      const read = file.readSync(bytes.subarray(at));
      if (read === null) {
        throw new Error(`the report's spool ended ${bytes.byteLength - at} bytes early`);
      }
      at += read;
    }
  }
}

/** `buffer`, or a larger one where it has less than `size` bytes (twice as large, at least). */
function room(buffer: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  return buffer.byteLength >= size ? buffer : new Uint8Array(Math.max(size, buffer.byteLength * 2));
}
