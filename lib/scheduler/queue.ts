/**
 * A FIFO queue with O(1) push and shift, for ready jobs (an array's `shift()` is O(n)).
 *
 * @module
 */

/**
 * First in, first out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Queue } from "./queue.ts";
 * const queue = new Queue<number>();
 * queue.push(1);
 * queue.push(2);
 * assert(queue.shift() === 1 && queue.length === 1);
 * ```
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The front item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Takes from the front, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything, front first. */
  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
