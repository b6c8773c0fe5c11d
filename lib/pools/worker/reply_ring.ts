/**
 * A one-way ring of records in shared memory, from one thread to another: a Worker host's
 * thread writes its tasks' replies there, and the host reads them when it likes, with no message
 * and no wake-up per reply. Waking a sleeping thread costs the waker more than a tiny task,
 * on a VM above all; and a reply written here can be read even while its thread is stuck in
 * the next task, or after it died.
 *
 * One writer and one reader. Each record is a task id and bytes; a record that does not fit
 * in the free room is refused, and the writer sends it another way, leaving an empty record in
 * its place ({@linkcode ReplyRing.writeWaiting}) so the reader keeps the order. Beside the
 * records, a flag says whether the writer has asked the reader to come
 * ({@linkcode ReplyRing.callReader}): one call outstanding at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplyRing } from "./reply_ring.ts";
 * const buffer = ReplyRing.allocate(1024);
 * const writer = new ReplyRing(buffer);
 * const reader = new ReplyRing(buffer);
 * writer.write(7, new TextEncoder().encode("done"));
 * const got: string[] = [];
 * reader.read((id, bytes) => void got.push(`${id}:${new TextDecoder().decode(bytes)}`));
 * assert(got[0] === "7:done");
 * ```
 *
 * @module
 */

/** Int32 fields before the records: write and read positions, and the call flag. */
const WRITTEN = 0;
const READ = 1;
const CALLED = 2;
const HEADER_BYTES = 16;
/** A record's head: its length and its task id. */
const RECORD_HEAD = 8;
/** Where a record would not fit before the end: the rest of the ring is skipped. */
const SKIP = -1;
/** How long {@linkcode ReplyRing.writeWaiting} sleeps before it looks for room again. */
const WAIT_FOR_ROOM_MS = 1;

export class ReplyRing {
  readonly #fields: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;

  /** Shared memory for a ring that holds `capacity` bytes of records (a power of two). */
  static allocate(capacity: number): SharedArrayBuffer {
    if (!Number.isInteger(Math.log2(capacity)) || capacity < 64) {
      throw new RangeError(`a ring's capacity must be a power of two >= 64: got ${capacity}`);
    }
    return new SharedArrayBuffer(HEADER_BYTES + capacity);
  }

  /** One side of the ring in `buffer`, from {@linkcode ReplyRing.allocate}. */
  constructor(buffer: SharedArrayBuffer) {
    this.#fields = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(buffer, HEADER_BYTES);
    this.#view = new DataView(buffer, HEADER_BYTES);
    this.#capacity = this.#bytes.byteLength;
  }

  /** The largest record {@linkcode write} may take. */
  get largest(): number {
    return this.#capacity / 4 - RECORD_HEAD;
  }

  /**
   * Writer: appends task `id`'s `bytes`; false, and nothing written, when there is no room (or
   * the record is over {@linkcode largest}).
   */
  write(id: number, bytes: Uint8Array): boolean {
    if (bytes.byteLength > this.largest) return false;
    const need = RECORD_HEAD + align(bytes.byteLength);
    const written = Atomics.load(this.#fields, WRITTEN);
    const free = this.#capacity - ((written - Atomics.load(this.#fields, READ)) >>> 0);
    let at = this.#offset(written);
    const toEnd = this.#capacity - at;
    const skip = toEnd < need ? toEnd : 0;
    if (skip + need > free) return false;
    if (skip > 0) {
      this.#view.setInt32(at, SKIP);
      at = 0;
    }
    this.#view.setInt32(at, bytes.byteLength);
    this.#view.setInt32(at + 4, id);
    this.#bytes.set(bytes, at + RECORD_HEAD);
    // The store publishes the record: a reader that loads the new position sees its bytes.
    Atomics.store(this.#fields, WRITTEN, (written + skip + need) | 0);
    return true;
  }

  /**
   * Writer: appends task `id`'s `bytes` (at most {@linkcode largest}), blocking the thread until
   * the reader makes room. For a short record that must go in, such as a place holder.
   */
  writeWaiting(id: number, bytes: Uint8Array): void {
    if (bytes.byteLength > this.largest) {
      throw new RangeError(`a record of ${bytes.byteLength} bytes: over ${this.largest}`);
    }
    while (!this.write(id, bytes)) {
      Atomics.wait(this.#fields, READ, Atomics.load(this.#fields, READ), WAIT_FOR_ROOM_MS);
    }
  }

  /**
   * Reader: hands each record written so far to `each`, oldest first, then frees their room;
   * stops after a record for which `each` returns false. `bytes` is a copy, `each`'s to keep.
   * Returns how many records it handed over.
   */
  read(each: (id: number, bytes: Uint8Array) => boolean | void): number {
    const written = Atomics.load(this.#fields, WRITTEN);
    let read = Atomics.load(this.#fields, READ);
    let count = 0;
    while (read !== written) {
      let at = this.#offset(read);
      const length = this.#view.getInt32(at);
      if (length === SKIP) {
        read = (read + this.#capacity - at) | 0;
        continue;
      }
      const id = this.#view.getInt32(at + 4);
      at += RECORD_HEAD;
      const bytes = this.#bytes.slice(at, at + length);
      read = (read + RECORD_HEAD + align(length)) | 0;
      count++;
      if (each(id, bytes) === false) break;
    }
    Atomics.store(this.#fields, READ, read);
    return count;
  }

  /**
   * Writer: whether to call the reader now; true once until the reader
   * {@linkcode answerCall | answers}, so a burst of records costs one call.
   */
  callReader(): boolean {
    return Atomics.compareExchange(this.#fields, CALLED, 0, 1) === 0;
  }

  /**
   * Reader: clears the call flag; do it before {@linkcode read}, so that a record written after
   * the read can call again.
   */
  answerCall(): void {
    Atomics.store(this.#fields, CALLED, 0);
  }

  #offset(position: number): number {
    return (position >>> 0) % this.#capacity;
  }
}

/** Records start on 4-byte boundaries. */
function align(length: number): number {
  return (length + 3) & ~3;
}
