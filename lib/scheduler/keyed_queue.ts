/**
 * A queue of queues: FIFO within a key, round-robin across keys, so one busy key (a host with
 * a thousand files) neither starves the others nor costs a scan of every waiting item.
 *
 * @module
 */
import { Queue } from "./queue.ts";

/**
 * FIFO per key; {@linkcode KeyedQueue.take} serves keys in turn and skips keys that may not
 * take now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyedQueue } from "./keyed_queue.ts";
 * const queue = new KeyedQueue<string>();
 * queue.push("a1", "a");
 * queue.push("a2", "a");
 * queue.push("b1", "b");
 * assert(queue.take(() => true) === "a1");
 * assert(queue.take(() => true) === "b1");
 * assert(queue.take((key) => key !== "a") === undefined);
 * ```
 */
export class KeyedQueue<T> {
  /** Keys with waiting items, in service order. */
  readonly #byKey = new Map<string, Queue<T>>();
  #length = 0;

  /** How many items wait, over all keys. */
  get length(): number {
    return this.#length;
  }

  /** Adds an item at the back of its key's queue. */
  push(item: T, key: string): void {
    let queue = this.#byKey.get(key);
    if (!queue) this.#byKey.set(key, queue = new Queue());
    queue.push(item);
    this.#length++;
  }

  /**
   * Takes the front item of the first key (in turn) for which `mayTake(key, front)` is true, and
   * moves that key to the back of the turn. `mayTake` may claim a slot: it is called at most once
   * per key, and a true answer always takes that front item.
   */
  take(mayTake: (key: string, front: T) => boolean): T | undefined {
    for (const [key, queue] of this.#byKey) {
      if (!mayTake(key, queue.peek()!)) continue;
      const item = queue.shift()!;
      this.#length--;
      // To the back of the turn, unless it is the only key (no need: a move costs garbage).
      if (queue.length === 0 || this.#byKey.size > 1) {
        this.#byKey.delete(key);
        if (queue.length > 0) this.#byKey.set(key, queue);
      }
      return item;
    }
    return undefined;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const all = [...this.#byKey.values()].flatMap((queue) => queue.drain());
    this.#byKey.clear();
    this.#length = 0;
    return all;
  }
}
