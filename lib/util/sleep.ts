/**
 * An abortable delay.
 *
 * @module
 */

/** Options for {@linkcode sleep}. */
export interface SleepOptions {
  /** Aborting it rejects the sleep at once with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` if aborted first. The timer and
 * the listener are always removed.
 *
 * @example
 * ```ts
 * import { sleep } from "./sleep.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const onAbort = () => {
    clearTimeout(timer);
    reject(signal!.reason);
  };
  const timer = setTimeout(() => {
    signal?.removeEventListener("abort", onAbort);
    resolve();
  }, ms);
  signal?.addEventListener("abort", onAbort, { once: true });
  return promise;
}
