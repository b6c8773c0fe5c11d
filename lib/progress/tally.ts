/**
 * The running counts behind the live progress display: per pool, jobs in an attempt against the
 * limit and jobs done against the total; bytes received and the current rate; the run's overall
 * progress and its estimated time to finish. Each event costs O(1); a snapshot costs O(pools).
 *
 * @module
 */
import type { RunEvent } from "../scheduler/events.ts";
import type { PoolName } from "../scheduler/kind.ts";

/** One pool as the display shows it. */
export interface PoolTally {
  pool: PoolName;
  /** Jobs in an attempt now. */
  active: number;
  limit: number;
  done: number;
  total: number;
  /** All its jobs are downloads (the display says "files"). */
  filesOnly: boolean;
  /** It runs the downloads: bytes and rate belong on its line. */
  downloads: boolean;
}

/** The whole run at one moment. */
export interface TallySnapshot {
  /** ms since the run started. */
  elapsedMs: number;
  done: number;
  total: number;
  failed: number;
  /** Pools with at least one job, io first. */
  pools: PoolTally[];
  /** Bytes received so far, finished downloads and transfers under way. */
  bytes: number;
  /** Bytes per second over the last two seconds or so. */
  bytesPerSecond: number;
  /** Estimated ms until the last job ends; undefined until it can be told. */
  etaMs: number | undefined;
}

/** Rates are taken over about this many ms of recent history. */
const RATE_WINDOW_MS = 2000;
/** Job completions are taken over about this many ms for the ETA... */
const ETA_WINDOW_MS = 10_000;
/** ...when at least this many ended in that time. */
const MIN_RECENT_JOBS = 3;
const POOL_ORDER: PoolName[] = ["io", "cpu"];

/**
 * Follows a run's events and tells where it stands.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressTally } from "./tally.ts";
 * const tally = new ProgressTally();
 * tally.handle({
 *   type: "run-started", at: 0, jobs: [], limits: { io: 8, cpu: 2 },
 *   pools: { download: "io", compute: "cpu", run: "cpu" }, transfers: ["download"],
 * });
 * assert(tally.snapshot().total === 0);
 * ```
 */
export class ProgressTally {
  #elapsed = 0;
  #total = 0;
  #done = 0;
  #failed = 0;
  #pools = new Map<PoolName, PoolTally>();
  #kindPools: Record<string, PoolName> = {};
  /** The pool of each job in an attempt now. */
  #running = new Map<string, PoolName>();
  #finishedBytes = 0;
  #transferring = new Map<string, number>();
  #transferringSum = 0;
  /** (ms, bytes) samples for the rate; (ms, jobs done) samples for the ETA. */
  #byteSamples: [number, number][] = [];
  #doneSamples: [number, number][] = [];

  /** Takes one event into account. */
  handle(event: RunEvent): void {
    this.#elapsed = event.at;
    switch (event.type) {
      case "run-started": {
        this.#total = event.jobs.length;
        this.#kindPools = event.pools;
        for (const job of event.jobs) {
          const pool = this.#pool(event.pools[job.kind]!, event.limits);
          pool.total++;
          if (!event.transfers.includes(job.kind)) pool.filesOnly = false;
          else pool.downloads = true;
        }
        this.#doneSamples.push([event.at, 0]);
        break;
      }
      case "job-started": {
        const pool = this.#kindPools[event.job.kind]!;
        this.#running.set(event.job.name, pool);
        const tally = this.#pools.get(pool);
        if (tally) tally.active++;
        break;
      }
      case "job-progress": {
        const before = this.#transferring.get(event.job.name) ?? 0;
        this.#transferring.set(event.job.name, event.bytes);
        this.#transferringSum += event.bytes - before;
        break;
      }
      case "job-retrying":
        this.#stopAttempt(event.job.name);
        break;
      case "job-finished": {
        this.#stopAttempt(event.job.name);
        this.#done++;
        const tally = this.#pools.get(this.#kindPools[event.job.kind]!);
        if (tally) tally.done++;
        if (event.outcome.status === "failed") this.#failed++;
        this.#finishedBytes += event.outcome.result?.bytes ?? 0;
        break;
      }
      case "job-queued":
      case "run-finished":
        break;
      default:
        event satisfies never;
    }
  }

  /** When the last event happened, in ms since the run started. */
  get lastEventMs(): number {
    return this.#elapsed;
  }

  /** Where the run stands; `nowMs` (ms since the run started) defaults to the last event's. */
  snapshot(nowMs = this.#elapsed): TallySnapshot {
    const bytes = this.#finishedBytes + this.#transferringSum;
    const bytesPerSecond = rateOf(this.#byteSamples, nowMs, bytes, RATE_WINDOW_MS).perSecond;
    const recent = rateOf(this.#doneSamples, nowMs, this.#done, ETA_WINDOW_MS);
    // The recent pace once a few jobs ended lately; the whole run's pace before that.
    const jobsPerSecond = recent.delta >= MIN_RECENT_JOBS
      ? recent.perSecond
      : nowMs > 0
      ? this.#done / (nowMs / 1000)
      : 0;
    const remaining = this.#total - this.#done;
    const etaMs = remaining === 0
      ? 0
      : this.#done === 0 || jobsPerSecond === 0
      ? undefined
      : (remaining / jobsPerSecond) * 1000;
    const pools = POOL_ORDER.flatMap((name) => {
      const pool = this.#pools.get(name);
      return pool && pool.total > 0 ? [{ ...pool }] : [];
    });
    return {
      elapsedMs: nowMs,
      done: this.#done,
      total: this.#total,
      failed: this.#failed,
      pools,
      bytes,
      bytesPerSecond,
      etaMs,
    };
  }

  #pool(pool: PoolName, limits: Record<PoolName, number>): PoolTally {
    let tally = this.#pools.get(pool);
    if (!tally) {
      tally = {
        pool,
        active: 0,
        limit: limits[pool],
        done: 0,
        total: 0,
        filesOnly: true,
        downloads: false,
      };
      this.#pools.set(pool, tally);
    }
    return tally;
  }

  #stopAttempt(name: string): void {
    const pool = this.#running.get(name);
    if (pool !== undefined) {
      this.#running.delete(name);
      const tally = this.#pools.get(pool);
      if (tally) tally.active--;
    }
    const bytes = this.#transferring.get(name);
    if (bytes !== undefined) {
      this.#transferring.delete(name);
      this.#transferringSum -= bytes;
    }
  }
}

/**
 * How much `value` grew over about the last `windowMs` (`delta`), and per second. Records
 * (nowMs, value) as a sample when it is at least 100 ms after the last, so the history stays
 * short.
 */
function rateOf(
  samples: [number, number][],
  nowMs: number,
  value: number,
  windowMs: number,
): { delta: number; perSecond: number } {
  const last = samples.at(-1);
  if (!last || nowMs - last[0] >= 100) samples.push([nowMs, value]);
  while (samples.length > 2 && nowMs - samples[1]![0] >= windowMs) samples.shift();
  const [then, before] = samples[0]!;
  const delta = value - before;
  return { delta, perSecond: nowMs - then > 0 ? delta / ((nowMs - then) / 1000) : 0 };
}
