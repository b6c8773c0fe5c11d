/**
 * Many waiters on one AbortSignal through a single "abort" listener. Each listener added to an
 * EventTarget is removed by a scan of all of them, so with a hundred tasks in flight on the run's
 * signal, adding and removing one per task costs more than a tiny task; a Set costs the same
 * whatever the count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchAbort } from "./abort_watch.ts";
 * const controller = new AbortController();
 * let called = 0;
 * const stop = watchAbort(controller.signal, () => called++);
 * watchAbort(controller.signal, () => called++);
 * stop();
 * controller.abort();
 * assert(called === 1);
 * ```
 *
 * @module
 */

const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `onAbort` once `signal` aborts, unless the returned function was called first. A signal
 * aborted already calls nothing: check it before.
 */
export function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let set = waiters.get(signal);
  if (!set) {
    const callbacks = set = new Set();
    waiters.set(signal, callbacks);
    signal.addEventListener("abort", () => {
      waiters.delete(signal);
      for (const callback of callbacks) callback();
    }, { once: true });
  }
  set.add(onAbort);
  return () => set.delete(onAbort);
}
