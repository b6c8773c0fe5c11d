/**
 * The slots of one scheduler pool (lanes 1..n) and the jobs a kind takes ahead of a free slot
 * (`queueAhead`): which job may be taken now, and which lane each runs on once it starts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Slots } from "./slots.ts";
 * const slots = new Slots(1);
 * const taken = slots.take(undefined);
 * slots.start(taken, (lane) => assert(lane === 1));
 * assert(!slots.mayTake(undefined));
 * slots.release(taken);
 * assert(slots.mayTake(undefined));
 * ```
 *
 * @module
 */

/** How a job may be taken ahead of a free slot (see `QueueAhead` in lib/scheduler/kind.ts). */
export interface Ahead {
  key: string;
  perSlot: number;
}

/** A job's hold on its pool, from {@linkcode Slots.take}. */
export interface Taken {
  /** Undefined for a job that took a slot at once. */
  ahead: Ahead | undefined;
  started: boolean;
  /** Its slot number once started. */
  lane: number | undefined;
}

/**
 * The slots (lanes 1..n) of one pool, and the jobs taken ahead of a free slot. A job taken ahead
 * holds no slot until it starts. Jobs taken ahead all share one key while any is held, and are
 * taken ahead only while no other job holds a slot, so the kind's own limit keeps them within the
 * pool's slots. A job that cannot go ahead (a command, or a compute job with another key) takes a
 * free slot like any other, once no job held ahead waits to start: a long command never keeps
 * compute jobs off the free slots, and two compute jobs of different keys run side by side.
 */
export class Slots {
  readonly #free: number[];
  readonly #size: number;
  /** Jobs holding a slot that were not taken ahead. */
  #others = 0;
  /** Jobs taken ahead and not yet released, started or not; all with {@linkcode #aheadKey}. */
  #ahead = 0;
  #aheadKey: string | undefined;
  /** Jobs taken ahead that have not started. */
  #waiting = 0;
  /** Started jobs waiting for a slot number: one taken ahead began as another was ending. */
  readonly #unnumbered = new Map<Taken, (lane: number) => void>();
  /** Slot numbers handed out beyond the pool's size (a kind that started more than it should). */
  #extra = 0;

  constructor(size: number) {
    this.#size = size;
    this.#free = Array.from({ length: size }, (_, i) => size - i); // slot 1 first
  }

  /** Whether a job that may be taken so (undefined: only into a free slot) may be taken now. */
  mayTake(ahead: Ahead | undefined): boolean {
    return this.#mayGoAhead(ahead) || (this.#free.length > 0 && this.#waiting === 0);
  }

  /**
   * Takes a place for a job that {@linkcode mayTake} allowed: ahead of a free slot while no
   * other job holds one and the jobs held ahead have its key, else a free slot (the returned
   * `ahead` says which it got).
   */
  take(ahead: Ahead | undefined): Taken {
    if (!this.#mayGoAhead(ahead)) {
      this.#others++;
      return { ahead: undefined, started: false, lane: undefined };
    }
    this.#ahead++;
    this.#waiting++;
    this.#aheadKey = ahead.key;
    return { ahead, started: false, lane: undefined };
  }

  /**
   * Whether a job may be taken ahead of a free slot: no other job holds a slot, the jobs held
   * ahead (if any) share its key, and they are fewer than the kind allows. A job with another
   * key takes a free slot instead, once none held ahead waits to start: those take the host's
   * threads as they come free, and the pool's limit must hold for both.
   */
  #mayGoAhead(ahead: Ahead | undefined): ahead is Ahead {
    return ahead !== undefined && this.#others === 0 &&
      (this.#ahead === 0 || this.#aheadKey === ahead.key) &&
      this.#ahead < this.#size * (1 + ahead.perSlot);
  }

  /**
   * Starts a taken job and numbers its slot through `onLane`: at once, or, for a job taken ahead
   * that began as another was ending (its kind says so first), as soon as that one's slot is
   * given back.
   */
  start(taken: Taken, onLane: (lane: number) => void): void {
    if (taken.ahead !== undefined) this.#waiting--;
    taken.started = true;
    const lane = this.#free.pop();
    if (lane === undefined) return void this.#unnumbered.set(taken, onLane);
    taken.lane = lane;
    onLane(lane);
  }

  /** Gives back what {@linkcode take} (and {@linkcode start}) took. */
  release(taken: Taken): void {
    if (taken.ahead === undefined) this.#others--;
    else {
      if (!taken.started) this.#waiting--;
      if (--this.#ahead === 0) this.#aheadKey = undefined;
    }
    // Looked up only if any wait: a lookup gives `taken` an identity hash, which costs memory.
    const onLane = this.#unnumbered.size > 0 ? this.#unnumbered.get(taken) : undefined;
    if (onLane) {
      this.#unnumbered.delete(taken);
      onLane(taken.lane = this.#size + ++this.#extra);
    }
    const lane = taken.lane;
    if (lane === undefined || lane > this.#size) return;
    // Checked first: taking the first entry of even an empty map costs an iterator.
    if (this.#unnumbered.size === 0) return void this.#free.push(lane);
    const [next] = this.#unnumbered;
    this.#unnumbered.delete(next![0]);
    next![0].lane = lane;
    next![1](lane);
  }
}
