/**
 * A watchdog that aborts a transfer making no real progress: less than `minBytes` received in
 * `idleMs` (a stalled server, or one that drips a byte at a time). One timer per transfer,
 * re-armed lazily, so feeding it costs an addition per chunk.
 *
 * @module
 */
import { IdleTimeoutError } from "./errors.ts";
import { formatDuration } from "../../lib/util/format.ts";

/** Options for {@linkcode IdleWatchdog}. */
export interface IdleWatchdogOptions {
  /** Progress below this many bytes does not count. @default 1024 */
  minBytes?: number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
  /**
   * A signal the watchdog's own follows (with its reason), so that one signal covers both: a
   * cheaper link than `AbortSignal.any` for one per transfer.
   */
  signal?: AbortSignal;
}

/**
 * Aborts {@linkcode IdleWatchdog.signal} with an {@linkcode IdleTimeoutError} when fed too
 * little for `idleMs`; 0 disables it. Dispose it when the transfer ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdleWatchdog } from "./idle_watchdog.ts";
 * using watchdog = new IdleWatchdog(30_000);
 * watchdog.feed(65_536);
 * assert(!watchdog.signal.aborted);
 * ```
 */
export class IdleWatchdog implements Disposable {
  readonly #controller = new AbortController();
  readonly #idleMs: number;
  readonly #minBytes: number;
  readonly #now: () => number;
  #lastProgress: number;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #parent: AbortSignal | undefined;
  readonly #onParentAbort = () => {
    this[Symbol.dispose]();
    this.#controller.abort(this.#parent!.reason);
  };

  constructor(idleMs: number, options: IdleWatchdogOptions = {}) {
    this.#idleMs = idleMs;
    this.#minBytes = options.minBytes ?? 1024;
    this.#now = options.now ?? (() => performance.now());
    this.#lastProgress = this.#now();
    this.#parent = options.signal;
    if (this.#parent?.aborted) {
      this.#controller.abort(this.#parent.reason);
      return;
    }
    this.#parent?.addEventListener("abort", this.#onParentAbort, { once: true });
    if (idleMs > 0) this.#arm(idleMs);
  }

  /** Aborted when the transfer went idle, or when `options.signal` aborted. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Counts received bytes; enough of them since the last progress is progress. */
  feed(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending >= this.#minBytes) this.progress();
  }

  /** Marks progress now (response headers arrived, the body ended). */
  progress(): void {
    this.#lastProgress = this.#now();
    this.#pending = 0;
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parent?.removeEventListener("abort", this.#onParentAbort);
  }

  #arm(ms: number) {
    this.#timer = setTimeout(() => {
      const idle = this.#now() - this.#lastProgress;
      if (idle < this.#idleMs) return this.#arm(this.#idleMs - idle);
      this.#timer = undefined;
      const got = this.#pending === 0 ? "no data" : `only ${this.#pending} bytes`;
      this.#controller.abort(
        new IdleTimeoutError(`${got} in ${formatDuration(this.#idleMs)} (idle_timeout)`),
      );
    }, ms);
  }
}
