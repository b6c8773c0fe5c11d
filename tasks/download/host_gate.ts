/**
 * Per-host admission for downloads: at most `limit` transfers to one host at a time, and an
 * adaptive slow-down when a host pushes back. A 429 halves that host's limit and pauses it
 * until its Retry-After has passed (or the back-off, when it gives none); successes then grow
 * the limit back by one per round of successful transfers (additive increase, multiplicative
 * decrease, as TCP does). A 503 with Retry-After pauses the host without lowering the limit.
 *
 * With an `interval` (`concurrency.per_host_interval`, wget's `--wait`), two requests to one host
 * start at least that far apart: a job is admitted only when its host's turn has come, and every
 * further request of a transfer (a redirect, a mirror, a segment) waits for its own turn.
 *
 * @module
 */
import type { DownloadJob } from "./job.ts";
import type { Gate } from "../../lib/scheduler/kind.ts";
import { sleep } from "../../lib/util/sleep.ts";

/** Options for {@linkcode HostGate}. */
export interface HostGateOptions {
  /** Transfers at once to one host (`concurrency.per_host`). */
  limit: number;
  /** The least time between the starts of two requests to one host, in ms. @default 0 */
  interval?: number | undefined;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

interface HostState {
  active: number;
  /** The current limit: `limit` until the host pushes back. */
  limit: number;
  /** Successes since the limit last grew. */
  successes: number;
  /** No new transfer before this time. */
  pausedUntil: number;
  /** The next request to the host starts no earlier than this (`interval`). */
  nextStart: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The per-host limit as a scheduler {@linkcode Gate}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostGate } from "./host_gate.ts";
 * const gate = new HostGate({ limit: 1 });
 * assert(gate.tryEnter("a:80") && !gate.tryEnter("a:80") && gate.tryEnter("b:80"));
 * gate.leave("a:80");
 * assert(gate.tryEnter("a:80"));
 * gate.close();
 * ```
 */
export class HostGate implements Gate<DownloadJob> {
  readonly #limit: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #hosts = new Map<string, HostState>();
  readonly #listeners: (() => void)[] = [];
  readonly #keys = new WeakMap<DownloadJob, string>();

  constructor(options: HostGateOptions) {
    this.#limit = options.limit;
    this.#interval = options.interval ?? 0;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The job's host (`host:port` when the port is not the scheme's), computed once per job. */
  keyOf(job: DownloadJob): string {
    let host = this.#keys.get(job);
    if (host === undefined) this.#keys.set(job, host = new URL(job.url).host);
    return host;
  }

  tryEnter(host: string): boolean {
    const state = this.#state(host);
    const now = this.#now();
    if (state.active >= state.limit || now < state.pausedUntil) return false;
    if (now < state.nextStart) {
      this.#wakeAt(state, state.nextStart - now);
      return false;
    }
    if (this.#interval > 0) state.nextStart = now + this.#interval;
    state.active++;
    return true;
  }

  /**
   * Waits for the next turn of `host` for a request after a transfer's first (which its
   * admission counted): at once without an interval.
   */
  async turn(host: string, signal: AbortSignal): Promise<void> {
    if (this.#interval === 0) return;
    const state = this.#state(host);
    const now = this.#now();
    const start = Math.max(now, state.nextStart);
    state.nextStart = start + this.#interval;
    if (start > now) await sleep(start - now, { signal });
  }

  leave(host: string): void {
    const state = this.#hosts.get(host);
    if (!state) return;
    state.active--;
    if (
      state.active === 0 && state.timer === undefined && state.limit === this.#limit &&
      this.#interval === 0
    ) {
      this.#hosts.delete(host); // back to defaults: forget it
    }
  }

  onOpen(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** A transfer from `host` succeeded: a throttled host earns its limit back. */
  succeeded(host: string): void {
    const state = this.#hosts.get(host);
    if (!state || state.limit >= this.#limit) return;
    if (++state.successes >= state.limit) {
      state.limit++;
      state.successes = 0;
    }
  }

  /** `host` answered 429: halve its limit and pause it for `pauseMs`. */
  throttle(host: string, pauseMs: number): void {
    const state = this.#state(host);
    state.limit = Math.max(1, Math.floor(state.limit / 2));
    state.successes = 0;
    this.pause(host, pauseMs);
  }

  /** Starts no transfer to `host` for `pauseMs`. */
  pause(host: string, pauseMs: number): void {
    const state = this.#state(host);
    const until = this.#now() + pauseMs;
    if (until <= state.pausedUntil) return;
    state.pausedUntil = until;
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    this.#wakeAt(state, pauseMs);
  }

  /** Tells the listeners in `ms` that `state`'s host may take a transfer again. */
  #wakeAt(state: HostState, ms: number): void {
    if (state.timer !== undefined) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      for (const listener of this.#listeners) listener();
    }, Math.max(1, ms));
  }

  /** The current limit of `host`, for reports and tests. */
  limitOf(host: string): number {
    return this.#hosts.get(host)?.limit ?? this.#limit;
  }

  /** Cancels pending wake-ups. */
  close(): void {
    for (const state of this.#hosts.values()) {
      if (state.timer !== undefined) clearTimeout(state.timer);
    }
    this.#hosts.clear();
  }

  #state(host: string): HostState {
    let state = this.#hosts.get(host);
    if (!state) {
      state = {
        active: 0,
        limit: this.#limit,
        successes: 0,
        pausedUntil: 0,
        nextStart: 0,
        timer: undefined,
      };
      this.#hosts.set(host, state);
    }
    return state;
  }
}
