/**
 * Callers waiting for a pool to have room, woken in order. A waiter whose signal aborts leaves
 * the queue and rejects with `signal.reason`.
 *
 * @example
 * ```ts
 * import { WakeQueue } from "./wake_queue.ts";
 * const queue = new WakeQueue();
 * const waiting = queue.wait();
 * queue.wakeOne();
 * await waiting;
 * ```
 *
 * @module
 */

/** A FIFO of waiters. */
export class WakeQueue {
  readonly #waiters: (() => void)[] = [];

  /** Resolves when woken; rejects with `signal.reason` if it aborts first. */
  wait(signal?: AbortSignal): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const wake = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      const index = this.#waiters.indexOf(wake);
      if (index >= 0) this.#waiters.splice(index, 1);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#waiters.push(wake);
    return promise;
  }

  /** Wakes the longest waiter, if any. */
  wakeOne(): void {
    this.#waiters.shift()?.();
  }

  /** Wakes every waiter (to see that the pool closed). */
  wakeAll(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
