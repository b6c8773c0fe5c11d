/**
 * Frames bound for one channel (a host's stdin, a host's stdout), gathered over one turn of the
 * event loop and written as one block. Tiny tasks come and go by the dozen per turn: one write
 * each would cost a system call and a wake-up of the reader per task, where one write per turn
 * carries them all.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Writes a block whole: synchronously, or by the time the promise settles. */
export type BlockWriter = (block: Uint8Array) => void | Promise<void>;

/**
 * Gathers frames and writes them in order, one block per turn of the event loop (`setImmediate`,
 * which runs after the turn's promise jobs; `setTimeout(0)` would wait a millisecond or more).
 * While an asynchronous write is in flight, new frames wait and go together in the next block.
 * A failed write drops what was pending and everything after: a broken channel is the owner's to
 * notice (its reader ends, or its process exits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameOutbox } from "./frame_outbox.ts";
 * const blocks: number[] = [];
 * const outbox = new FrameOutbox((block) => void blocks.push(block.byteLength));
 * outbox.push(new Uint8Array(3));
 * outbox.push(new Uint8Array(5));
 * await outbox.flushed();
 * assert(blocks.length === 1 && blocks[0] === 8);
 * ```
 */
export class FrameOutbox {
  readonly #write: BlockWriter;
  #frames: Uint8Array[] = [];
  #bytes = 0;
  /** A flush is scheduled or a write is in flight. */
  #busy = false;
  #broken = false;
  #idle = Promise.resolve();
  #settleIdle: (() => void) | undefined;

  constructor(write: BlockWriter) {
    this.#write = write;
  }

  /** Queues `frame`; it is written within this turn of the event loop or the next. */
  push(frame: Uint8Array): void {
    if (this.#broken) return;
    this.#frames.push(frame);
    this.#bytes += frame.byteLength;
    if (this.#busy) return;
    this.#busy = true;
    this.#idle = new Promise((resolve) => this.#settleIdle = resolve);
    setImmediate(() => this.#flush());
  }

  /** Resolves once every frame pushed so far is written (or dropped by a broken channel). */
  flushed(): Promise<void> {
    return this.#idle;
  }

  #flush(): void {
    if (this.#frames.length === 0 || this.#broken) {
      this.#busy = false;
      this.#settleIdle?.();
      return;
    }
    const block = this.#take();
    let written: void | Promise<void>;
    try {
      written = this.#write(block);
    } catch {
      return this.#break();
    }
    if (written instanceof Promise) written.then(() => this.#flush(), () => this.#break());
    else this.#flush();
  }

  #take(): Uint8Array {
    const frames = this.#frames;
    const bytes = this.#bytes;
    this.#frames = [];
    this.#bytes = 0;
    if (frames.length === 1) return frames[0]!;
    const block = new Uint8Array(bytes);
    let at = 0;
    for (const frame of frames) {
      block.set(frame, at);
      at += frame.byteLength;
    }
    return block;
  }

  #break(): void {
    this.#broken = true;
    this.#frames = [];
    this.#bytes = 0;
    this.#busy = false;
    this.#settleIdle?.();
  }
}
