/**
 * Per-host admission for downloads: at most `limit` transfers to one host at a time, and an
 * adaptive slow-down when a host pushes back. A 429 halves that host's limit and pauses it
 * until its Retry-After has passed (or the back-off, when it gives none); successes then grow
 * the limit back by one per round of successful transfers (additive increase, multiplicative
 * decrease, as TCP does). A 503 with Retry-After pauses the host without lowering the limit.
 *
 * @module
 */
import type { DownloadJob } from "./job.ts";
import type { Gate } from "../../lib/scheduler/kind.ts";

/** Options for {@linkcode HostGate}. */
export interface HostGateOptions {
  /** Transfers at once to one host (`concurrency.per_host`). */
  limit: number;
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
  readonly #now: () => number;
  readonly #hosts = new Map<string, HostState>();
  readonly #listeners: (() => void)[] = [];
  readonly #keys = new WeakMap<DownloadJob, string>();

  constructor(options: HostGateOptions) {
    this.#limit = options.limit;
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
    if (state.active >= state.limit || this.#now() < state.pausedUntil) return false;
    state.active++;
    return true;
  }

  leave(host: string): void {
    const state = this.#hosts.get(host);
    if (!state) return;
    state.active--;
    if (state.active === 0 && state.timer === undefined && state.limit === this.#limit) {
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
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      for (const listener of this.#listeners) listener();
    }, pauseMs);
  }

  /** The current limit of `host`, for reports and tests. */
  limitOf(host: string): number {
    return this.#hosts.get(host)?.limit ?? this.#limit;
  }

  /** Cancels pending wake-ups. */
  close(): void {
    for (const state of this.#hosts.values()) clearTimeout(state.timer);
    this.#hosts.clear();
  }

  #state(host: string): HostState {
    let state = this.#hosts.get(host);
    if (!state) {
      state = { active: 0, limit: this.#limit, successes: 0, pausedUntil: 0, timer: undefined };
      this.#hosts.set(host, state);
    }
    return state;
  }
}
