/**
 * Bandwidth limits (`concurrency.bandwidth`, `concurrency.per_host_bandwidth`, `--limit-rate`):
 * downloads pace their reads. A transfer reads a chunk, books its bytes with the limiters, and
 * reads nothing more until the booked time has come. The socket is not read meanwhile, so TCP's
 * flow control slows the sender and nothing piles up in memory.
 *
 * Each limiter keeps a virtual clock: the time at which every byte booked so far may have
 * arrived at the limit. Transfers share it, so the limit holds over a whole run however many
 * transfers there are, and a transfer that ends leaves its share to the others. No credit
 * builds up while nothing is read, so there is no burst above the limit after a pause.
 *
 * @module
 */
import { sleep } from "../../lib/util/sleep.ts";

/** Options for {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * One rate limit, shared by the transfers it governs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimiter } from "./bandwidth.ts";
 * let clock = 0;
 * const limiter = new RateLimiter(1000, { now: () => clock });
 * assert.equal(limiter.book(500), 500); // 500 bytes at 1000 B/s: wait half a second
 * assert.equal(limiter.book(500), 1000); // booked behind the first
 * clock = 5000; // idle: no credit builds up
 * assert.equal(limiter.book(100), 100);
 * ```
 */
export class RateLimiter {
  /** Bytes a second. */
  readonly rate: number;
  readonly #now: () => number;
  /** When every byte booked so far may have arrived. */
  #next = -Infinity;

  constructor(bytesPerSecond: number, options: RateLimiterOptions = {}) {
    if (!(bytesPerSecond >= 1)) throw new RangeError(`a rate must be at least 1 B/s`);
    this.rate = bytesPerSecond;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Books `bytes` just read; returns how long, in ms, to wait before reading more. */
  book(bytes: number): number {
    const now = this.#now();
    this.#next = Math.max(this.#next, now) + (bytes * 1000) / this.rate;
    return this.#next - now;
  }

  /**
   * The most bytes one read should take: about 1/16 s at the limit, so that transfers take
   * turns finely; at least 16 KiB.
   */
  get readSize(): number {
    return Math.max(16 * 1024, Math.floor(this.rate / 16));
  }
}

/** Options for {@linkcode Bandwidth}. */
export interface BandwidthOptions {
  /** Bytes a second for all downloads together. @default no limit */
  total?: number | undefined;
  /** Bytes a second for each host. @default no limit */
  perHost?: number | undefined;
}

/**
 * The run's limits: one for all downloads, one per host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Bandwidth } from "./bandwidth.ts";
 * const bandwidth = new Bandwidth({ total: 64 * 1024 });
 * const pacer = bandwidth.pacer("a:80");
 * assert(pacer !== undefined && pacer.readSize === 16 * 1024);
 * assert.equal(new Bandwidth({}).pacer("a:80"), undefined);
 * ```
 */
export class Bandwidth {
  readonly #total: RateLimiter | undefined;
  readonly #perHost: number | undefined;
  readonly #hosts = new Map<string, RateLimiter>();

  constructor(options: BandwidthOptions) {
    this.#total = options.total === undefined ? undefined : new RateLimiter(options.total);
    this.#perHost = options.perHost;
  }

  /** The pacer of a transfer from `host`, or undefined when no limit applies. */
  pacer(host: string): Pacer | undefined {
    const limiters: RateLimiter[] = [];
    if (this.#total) limiters.push(this.#total);
    if (this.#perHost !== undefined) {
      let limiter = this.#hosts.get(host);
      if (!limiter) this.#hosts.set(host, limiter = new RateLimiter(this.#perHost));
      limiters.push(limiter);
    }
    return limiters.length === 0 ? undefined : new Pacer(limiters);
  }
}

/** What a transfer paces its reads with: every limit that applies to it. */
export class Pacer {
  readonly #limiters: readonly RateLimiter[];
  /** The most bytes one read should take. */
  readonly readSize: number;

  constructor(limiters: readonly RateLimiter[]) {
    this.#limiters = limiters;
    this.readSize = Math.min(...limiters.map((limiter) => limiter.readSize));
  }

  /** Books `bytes` just read with every limit; resolves when the next read may start. */
  async pace(bytes: number, signal: AbortSignal): Promise<void> {
    let wait = 0;
    for (const limiter of this.#limiters) wait = Math.max(wait, limiter.book(bytes));
    if (wait >= 1) await sleep(wait, { signal });
  }
}
