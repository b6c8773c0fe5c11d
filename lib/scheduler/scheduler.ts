/**
 * The run loop: starts each job when its needs have succeeded, on the pool its kind asks for,
 * within that pool's limit and its kind's gate (per-host limits); retries with back-off, or
 * after the delay the kind asks for (Retry-After); skips the dependents of a failed job;
 * stops everything on fail-fast or interrupt. It knows nothing of HTTP, Workers or processes.
 *
 * @module
 */
import type { CodedError } from "../errors.ts";
import {
  type AttemptRecord,
  type JobOutcome,
  type JobStatus,
  type RunEventListener,
  succeeded,
} from "./events.ts";
import type { Job } from "../jobfile/job.ts";
import type { Gate, JobKind, KindRegistry, PoolName } from "./kind.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { type Ahead, Slots, type Taken } from "./slots.ts";
import { sleep } from "../util/sleep.ts";

/** A run stopped by fail-fast: the reason given to the signals of jobs still running. */
export class FailFastError extends Error implements CodedError {
  override name = "FailFastError";
  readonly code = "FAIL_FAST";
}

/** Options for {@linkcode scheduleJobs}. */
export interface SchedulerOptions {
  /** How to run each kind of job. */
  kinds: KindRegistry;
  /** Jobs at once, per pool. */
  limits: Record<PoolName, number>;
  /** Aborting it cancels the run: queued jobs are dropped, running ones get the reason. */
  signal?: AbortSignal;
  /** Stop starting jobs, and abort running ones, after the first failure. @default false */
  failFast?: boolean;
  /** Receives every state change. */
  onEvent?: RunEventListener;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
  /** Source of back-off jitter in [0, 1). @default Math.random */
  random?: () => number;
  /** The kinds whose jobs move files, for the progress display. @default none */
  transfers?: readonly string[];
}

/** The longest back-off between two attempts, whatever the base. */
export const MAX_BACKOFF_MS = 30_000;

interface State {
  job: Job;
  /** Its place in the run's jobs. */
  index: number;
  /** The key its kind's gate admits it under (such as its host); "" when ungated. */
  key: string;
  /** How it may be taken ahead of a free slot (its kind's `queueAhead`), if it may. */
  ahead: Ahead | undefined;
  pendingNeeds: number;
  dependents: State[];
  status: JobStatus | "waiting" | "queued" | "running" | "backoff";
  attempts: AttemptRecord[];
  readyMs: number | undefined;
}

/**
 * Runs jobs in dependency order and resolves when every job has an outcome. Each outcome is told
 * once, in its `job-finished` event, and not kept: a run of a million jobs holds only their state.
 * It never rejects because a job failed; a failure is an outcome.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scheduleJobs } from "./scheduler.ts";
 * import type { Job } from "../jobfile/job.ts";
 * import type { KindRegistry } from "./kind.ts";
 * const instant = { pool: "cpu" as const, run: () => Promise.resolve({}) };
 * const kinds: KindRegistry = new Map([["instant", instant]]);
 * const job: Job = {
 *   kind: "instant", name: "hi", group: "hi", needs: [], retries: 0, timeoutMs: undefined,
 *   backoffMs: 0, source: undefined,
 * };
 * const statuses: string[] = [];
 * await scheduleJobs([job], {
 *   kinds,
 *   limits: { io: 1, cpu: 1 },
 *   onEvent: (event) => void (event.type === "job-finished" && statuses.push(event.outcome.status)),
 * });
 * assert.deepEqual(statuses, ["ok"]);
 * ```
 */
export function scheduleJobs(
  jobs: readonly Job[],
  options: SchedulerOptions,
): Promise<void> {
  const {
    kinds,
    limits,
    signal: runSignal,
    failFast = false,
    onEvent = () => {},
    now = () => performance.now(),
    random = Math.random,
    transfers = [],
  } = options;
  const t0 = now();
  const clock = () => now() - t0;
  if (!runSignal?.aborted) prepareKinds(kinds, jobs);

  const states = new Map<string, State>();
  const aheads = new Map<string, Ahead>(); // one per key, shared by its jobs
  const aheadOf = (kind: JobKind, job: Job): Ahead | undefined => {
    const key = kind.queueAhead?.keyOf(job);
    if (key === undefined) return undefined;
    let ahead = aheads.get(key);
    if (!ahead) aheads.set(key, ahead = { key, perSlot: kind.queueAhead!.perSlot });
    return ahead;
  };
  for (const [index, job] of jobs.entries()) {
    const kind = kindOf(kinds, job);
    states.set(job.name, {
      job,
      index,
      key: kind.gate?.keyOf(job) ?? "",
      ahead: aheadOf(kind, job),
      pendingNeeds: job.needs.length,
      dependents: NO_DEPENDENTS,
      status: "waiting",
      attempts: [],
      readyMs: undefined,
    });
  }
  for (const state of states.values()) {
    for (const need of state.job.needs) {
      const needed = states.get(need);
      if (!needed) continue;
      // Most jobs have no dependents: they share one empty list.
      if (needed.dependents === NO_DEPENDENTS) needed.dependents = [state];
      else needed.dependents.push(state);
    }
  }
  // A job runs only once its needs succeeded: its context says how each ended.
  const needsOf = (state: State): ReadonlyMap<string, "ok" | "cached"> =>
    state.job.needs.length === 0 ? NO_NEEDS : new Map(
      state.job.needs.map((need) => [need, states.get(need)?.status as "ok" | "cached"]),
    );

  // One controller stops the whole run: fail-fast, or the caller's signal.
  const stopper = new AbortController();
  const stopSignal = stopper.signal;
  const onRunAbort = () => stopper.abort(runSignal!.reason);
  runSignal?.addEventListener("abort", onRunAbort, { once: true });

  const queues: Record<PoolName, KeyedQueue<State>> = {
    io: new KeyedQueue(),
    cpu: new KeyedQueue(),
  };
  const slots: Record<PoolName, Slots> = { io: new Slots(limits.io), cpu: new Slots(limits.cpu) };
  let unfinished = states.size;
  const { promise, resolve } = Promise.withResolvers<void>();

  const pools = Object.fromEntries([...kinds].map(([name, kind]) => [name, kind.pool]));
  onEvent({ type: "run-started", at: clock(), jobs, limits, pools, transfers });

  // A job's end, and then its dependents' when it did not succeed: by a loop, not recursion,
  // so that a chain of any length of jobs each needing the one before is skipped whole.
  const finish = (
    state: State,
    status: JobStatus,
    extra: Partial<JobOutcome> = {},
    endMs = clock(),
  ) => {
    // Whether the run was stopped before this end: its dependents are cancelled, else skipped.
    const stopped = stopSignal.aborted;
    const ends: [State, JobStatus, Partial<JobOutcome>][] = [[state, status, extra]];
    for (let end = ends.pop(); end; end = ends.pop()) {
      const skipped = finishOne(end[0], end[1], end[2], endMs, stopped);
      // Pushed last first: taken in the order they were listed, depth first, as before.
      for (let i = skipped.length - 1; i >= 0; i--) ends.push(skipped[i]!);
    }
    // Only now, with what needed it skipped: stopping cancels every job not yet ended.
    if (status === "failed" && failFast && !stopSignal.aborted && unfinished > 0) {
      stopper.abort(new FailFastError(`stopped after "${state.job.name}" failed (--fail-fast)`));
    }
  };

  /** Ends `state`; returns the dependents to end with it, each with its status and reason. */
  const finishOne = (
    state: State,
    status: JobStatus,
    extra: Partial<JobOutcome>,
    endMs: number,
    stopped: boolean,
  ): [State, JobStatus, Partial<JobOutcome>][] => {
    if (isFinal(state.status)) return [];
    state.status = status;
    const first = state.attempts[0];
    const outcome: JobOutcome = {
      status,
      attempts: state.attempts,
      readyMs: state.readyMs,
      startMs: first?.startMs,
      endMs,
      result: undefined,
      ...extra,
    };
    // Told, not kept: the job's state keeps only its status.
    state.attempts = NO_ATTEMPTS;
    onEvent({
      type: "job-finished",
      at: outcome.endMs,
      job: state.job,
      index: state.index,
      outcome,
    });
    const ends: [State, JobStatus, Partial<JobOutcome>][] = [];
    if (succeeded(status)) {
      for (const dependent of state.dependents) {
        if (--dependent.pendingNeeds === 0 && dependent.status === "waiting") enqueue(dependent);
      }
    } else {
      const reason = new Error(`needs "${state.job.name}", which ${describeStatus(status)}`);
      const end: [JobStatus, Partial<JobOutcome>] = stopped
        ? ["cancelled", { error: stopSignal.reason }]
        : ["skipped", { error: reason }];
      for (const dependent of state.dependents) ends.push([dependent, ...end]);
    }
    if (--unfinished === 0) {
      runSignal?.removeEventListener("abort", onRunAbort);
      onEvent({ type: "run-finished", at: clock() });
      resolve();
    }
    return ends;
  };

  const enqueue = (state: State) => {
    if (stopSignal.aborted) return finish(state, "cancelled", { error: stopSignal.reason });
    const pool = kindOf(kinds, state.job).pool;
    const at = clock();
    state.readyMs ??= at;
    state.status = "queued";
    queues[pool].push(state, state.key);
    onEvent({ type: "job-queued", at, job: state.job, pool });
    pump(pool);
  };

  // A job starts when its pool has a lane free and its kind's gate admits its key.
  // Keys of gated kinds are never "", so one pool may mix gated and ungated kinds.
  const gates = new Map<PoolName, Gate>();
  for (const kind of kinds.values()) {
    if (!kind.gate) continue;
    if (gates.has(kind.pool)) throw new TypeError(`pool ${kind.pool} has two gates`);
    gates.set(kind.pool, kind.gate);
  }
  const admit = (pool: PoolName): (key: string) => boolean => {
    const gate = gates.get(pool);
    return gate ? (key) => key === "" || gate.tryEnter(key) : () => true;
  };
  const admits: Record<PoolName, (key: string) => boolean> = { io: admit("io"), cpu: admit("cpu") };
  const pump = (pool: PoolName) => {
    const queue = queues[pool];
    const enter = admits[pool];
    const poolSlots = slots[pool];
    while (queue.length > 0) {
      const state = queue.take((key, front) => poolSlots.mayTake(front.ahead) && enter(key));
      if (!state) break;
      void attempt(state, pool);
    }
  };
  for (const [pool, gate] of gates) gate.onOpen(() => pump(pool));

  const attempt = async (state: State, pool: PoolName) => {
    const { job } = state;
    const kind = kindOf(kinds, job);
    const number = state.attempts.length + 1;
    const poolSlots = slots[pool];
    const taken = poolSlots.take(state.ahead);
    let record: AttemptRecord | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Only a job with a timeout needs a signal of its own: a dependent signal per attempt
    // costs a weak reference in the run's signal and garbage, more than a tiny job itself.
    const timeout = job.timeoutMs === undefined ? undefined : new AbortController();
    const signal = timeout ? AbortSignal.any([stopSignal, timeout.signal]) : stopSignal;
    // The attempt begins: now for most kinds; for one taken ahead, when it leaves the queue
    // where it runs.
    const started = () => {
      if (record) return;
      const begun: AttemptRecord = record = { startMs: clock(), endMs: 0, lane: "" };
      // A one-item list made as such: a push onto `[]` reserves room for 16 more, a waste
      // thousands of jobs times over, as nearly every job has one attempt.
      if (state.attempts.length === 0) state.attempts = [begun];
      else state.attempts.push(begun);
      state.status = "running";
      let late = false;
      poolSlots.start(taken, (lane) => {
        // Numbered late (its kind started it as the slot's last job was ending): it begins on
        // the timeline when that one ends, so that no slot shows two jobs at once.
        if (late) begun.startMs = clock();
        begun.lane = laneName(pool, lane);
        onEvent({ type: "job-started", at: begun.startMs, job, attempt: number, lane: begun.lane });
      });
      late = true;
      // None held ahead may now wait to start: a job that could not go ahead may take a slot.
      if (taken.ahead !== undefined) pumpSoon(pool);
      if (!timeout) return;
      timer = setTimeout(() => {
        timeout.abort(new DOMException(`timed out after ${job.timeoutMs}ms`, "TimeoutError"));
      }, job.timeoutMs);
    };
    if (taken.ahead === undefined) started();
    const progress = (bytes: number) => onEvent({ type: "job-progress", at: clock(), job, bytes });
    try {
      const needs = needsOf(state);
      const result = await kind.run(job, { signal, attempt: number, progress, started, needs });
      started();
      const endMs = record!.endMs = clock();
      release(state, pool, taken);
      finish(state, result.cached ? "cached" : "ok", { result }, endMs);
    } catch (caught) {
      // A job aborted because the run stopped reports the run's reason, not its own echo.
      const error = stopSignal.aborted ? stopSignal.reason : caught;
      if (stopSignal.aborted && !record) {
        release(state, pool, taken);
        return finish(state, "cancelled", { error });
      }
      started(); // a job that failed before it left its queue failed as it began
      record!.endMs = clock();
      record!.error = error;
      release(state, pool, taken);
      if (stopSignal.aborted) return finish(state, "cancelled", { error });
      const retryable = kind.isRetryable?.(error) ?? true;
      if (number <= job.retries && retryable) {
        const ceiling = Math.min(MAX_BACKOFF_MS, job.backoffMs * 2 ** (number - 1));
        const delayMs = Math.max(
          Math.round(random() * ceiling),
          Math.round(kind.retryDelayMs?.(error, job) ?? 0),
        );
        record!.retryDelayMs = delayMs;
        state.status = "backoff";
        onEvent({ type: "job-retrying", at: clock(), job, attempt: number, error, delayMs });
        try {
          await sleep(delayMs, { signal: stopSignal });
        } catch {
          return finish(state, "cancelled", { error: stopSignal.reason });
        }
        state.status = "queued";
        queues[pool].push(state, state.key);
        pump(pool);
      } else {
        finish(state, "failed", { error });
      }
    } finally {
      // Only a timer that was set is cleared: the first clearTimeout loads Deno's (Node's) timers.
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  // One pump for all that happens in this turn, after it: a finishing job's events come first.
  const pumpDue: Record<PoolName, boolean> = { io: false, cpu: false };
  const pumpSoon = (pool: PoolName) => {
    if (pumpDue[pool]) return;
    pumpDue[pool] = true;
    queueMicrotask(() => {
      pumpDue[pool] = false;
      pump(pool);
    });
  };
  const release = (state: State, pool: PoolName, taken: Taken) => {
    slots[pool].release(taken);
    if (state.key !== "") gates.get(pool)?.leave(state.key);
    pumpSoon(pool);
  };

  // On stop, drop everything that has not started; running attempts see the signal.
  stopSignal.addEventListener("abort", () => {
    for (const pool of ["io", "cpu"] as const) {
      for (const state of queues[pool].drain()) {
        finish(state, "cancelled", { error: stopSignal.reason });
      }
    }
    for (const state of states.values()) {
      if (state.status === "waiting") finish(state, "cancelled", { error: stopSignal.reason });
    }
  }, { once: true });

  if (states.size === 0) {
    onEvent({ type: "run-finished", at: clock() });
    resolve();
  } else if (runSignal?.aborted) {
    stopper.abort(runSignal.reason);
  } else {
    for (const state of states.values()) if (state.pendingNeeds === 0) enqueue(state);
  }
  return promise;
}

const NO_NEEDS: ReadonlyMap<string, "ok" | "cached"> = new Map();

/** Tells each kind that asks of its jobs that can start at once (see `JobKind.prepare`). */
function prepareKinds(kinds: KindRegistry, jobs: readonly Job[]): void {
  const ready = new Map<JobKind, Job[]>();
  for (const job of jobs) {
    const kind = kindOf(kinds, job);
    if (!kind.prepare || job.needs.length > 0) continue;
    const list = ready.get(kind);
    if (list) list.push(job);
    else ready.set(kind, [job]);
  }
  for (const [kind, list] of ready) kind.prepare!(list);
}

/** The kind that runs `job`. */
function kindOf(kinds: KindRegistry, job: Job): JobKind {
  const kind = kinds.get(job.kind);
  if (!kind) throw new TypeError(`no job kind runs "${job.kind}" jobs (job "${job.name}")`);
  return kind;
}

function describeStatus(status: JobStatus): string {
  return status === "failed" ? "failed" : `was ${status}`;
}

/** Whether `status` is a finished job's. */
function isFinal(status: State["status"]): status is JobStatus {
  return status !== "waiting" && status !== "queued" && status !== "running" &&
    status !== "backoff";
}

/** The attempts of a job that has finished, whose own went with its outcome. */
const NO_ATTEMPTS: AttemptRecord[] = [];

/** The dependents of a job that has none (most): one list for all, never added to. */
const NO_DEPENDENTS: State[] = [];

/** Lane names, made once each: `cpu-1`, `io-3`. */
const LANE_NAMES: Record<PoolName, string[]> = { io: [], cpu: [] };

/** The name of lane `lane` of `pool`, shared by every attempt on it. */
function laneName(pool: PoolName, lane: number): string {
  return LANE_NAMES[pool][lane] ??= `${pool}-${lane}`;
}
