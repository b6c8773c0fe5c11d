/**
 * A distributed run's coordinator (`taskpool run FILE --redis URL`): the run's scheduler as on
 * one machine (needs, retries, back-off, timeouts, `--fail-fast`), with each kind replaced by a
 * remote one that queues the attempt in Redis for the workers and waits for its outcome.
 *
 * What it promises:
 * - an attempt's BullMQ job id is `RUN|NAME|ATTEMPT`, so a coordinator started again with the same
 *   command finds the run (`taskpool:run:<plan digest>` names it while it is unfinished) and
 *   takes every attempt that completed from Redis instead of running it again; a run that ended
 *   is never picked up: the next command starts a new one;
 * - an outcome is announced by its worker once Redis has recorded it (`taskpool:done`) and, as
 *   a safety net, found by asking for the state of every job outstanding for a while: an
 *   announcement missed while the connection was down costs a few seconds, not a rerun; a job
 *   Redis no longer has (restarted empty) is queued again from the plan the coordinator holds;
 * - a timeout, `--fail-fast` or an interrupt cancels the attempt on its worker (a message on
 *   `taskpool:cancel`) and takes it out of the queue if no worker has it yet.
 *
 * @module
 */
import { Job as QueueJob, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Job, Plan } from "../jobfile/job.ts";
import type { KindDefinition, Kinds } from "../kind_definition.ts";
import type { JobKind, PoolName, TaskContext, TaskResult } from "../scheduler/kind.ts";
import {
  CANCEL_CHANNEL,
  connectRedis,
  DONE_CHANNEL,
  PREFIX,
  QUEUES,
  showRedisUrl,
  STARTED_CHANNEL,
  whenReachable,
} from "./redis.ts";
import { type RemoteJobData, RemoteJobError, remoteJobId, type RemoteOutcome } from "./protocol.ts";
import { DefinitionDigests } from "./digests.ts";

/** Options for {@linkcode openCoordinator}. */
export interface CoordinatorOptions {
  redis: string;
  kinds: Kinds;
  /** The job file's folder: workers map it onto their copy. */
  baseDir: string;
  /** One line of news (stderr). */
  log: (line: string) => void;
  /** How often outstanding jobs' states are checked, in ms. @default 1000 */
  pollMs?: number;
}

/** An open distributed run. */
export interface Coordinator {
  /** The run's id. */
  run: string;
  /** Whether it picked up an unfinished run. */
  resumed: boolean;
  /** The remote kinds, by kind name, for the scheduler. */
  kinds: Map<string, JobKind>;
  /** The workers seen so far, by label, with the jobs each ran. */
  workers: Map<string, number>;
  /** Lines for the progress display: each worker and what it runs now. */
  status(): string[];
  /** Ends the run: `finished` marks it done (never picked up again). */
  close(finished: boolean): Promise<void>;
}

/** Opens (or picks up) the distributed run of `plan`. */
export async function openCoordinator(
  plan: Plan,
  options: CoordinatorOptions,
): Promise<Coordinator> {
  const { redis: url, log } = options;
  const onError = (message: string) => log(`taskpool: redis ${showRedisUrl(url)}: ${message}`);
  const client = connectRedis(url, { onError });
  try {
    await whenReachable(client, url);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  const digest = await planDigest(plan);
  const pointer = `${PREFIX}:run:${digest}`;
  let run = await client.get(pointer);
  const resumed = run !== null;
  if (run === null) {
    run = `${digest.slice(0, 16)}-${Date.now().toString(36)}`;
    await client.set(pointer, run);
  } else {
    log(`taskpool: picking up run ${run} of ${plan.file} (completed jobs are not run again)`);
  }

  const queues = {
    io: new Queue(QUEUES.io, { connection: connectRedis(url, { onError }), prefix: PREFIX }),
    cpu: new Queue(QUEUES.cpu, { connection: connectRedis(url, { onError }), prefix: PREFIX }),
  };
  const tracker = new Tracker(queues, client, {
    url,
    onError,
    log,
    pollMs: options.pollMs ?? 1000,
  });
  await tracker.start();
  const digests = new DefinitionDigests(options.baseDir);
  const workers = new Map<string, number>();
  const kinds = new Map<string, JobKind>();
  for (const definition of options.kinds) {
    kinds.set(
      definition.name,
      remoteKind(definition, {
        run,
        resumed,
        plan,
        baseDir: options.baseDir,
        queue: queues[definition.pool],
        tracker,
        digests,
        client,
        workers,
        log,
      }),
    );
  }
  return {
    run,
    resumed,
    kinds,
    workers,
    status: () => tracker.status(workers),
    async close(finished) {
      await tracker.stop();
      if (finished) await client.del(pointer).catch(() => {});
      await Promise.all([queues.io.close(), queues.cpu.close()]);
      await client.quit().catch(() => {});
    },
  };
}

/** The digest that names a plan's run: its file, output and jobs. */
async function planDigest(plan: Plan): Promise<string> {
  const text = JSON.stringify({ file: plan.file, output: plan.output, jobs: plan.jobs });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

interface RemoteKindContext {
  run: string;
  /** Whether the run was picked up: only then may Redis know an attempt already. */
  resumed: boolean;
  plan: Plan;
  baseDir: string;
  queue: Queue;
  tracker: Tracker;
  digests: DefinitionDigests;
  client: Redis;
  workers: Map<string, number>;
  log: (line: string) => void;
}

/** A kind whose attempts run on the workers. */
function remoteKind(definition: KindDefinition, context: RemoteKindContext): JobKind {
  return {
    pool: definition.pool,
    async run(job: Job, task: TaskContext): Promise<TaskResult> {
      const id = remoteJobId(context.run, job.name, task.attempt);
      const data: RemoteJobData = {
        run: context.run,
        job,
        attempt: task.attempt,
        needs: [...task.needs ?? []],
        origin: { baseDir: context.baseDir, output: context.plan.output },
        digests: await context.digests.of(definition, job),
      };
      const outcome = await context.tracker.outcome(id, context.queue, data, task.signal, {
        known: context.resumed,
      });
      const seen = context.workers.get(outcome.worker);
      if (seen === undefined) context.log(`taskpool: worker ${outcome.worker} joined the run`);
      context.workers.set(outcome.worker, (seen ?? 0) + 1);
      if (outcome.error) throw new RemoteJobError(outcome.error, outcome.worker);
      return { ...outcome.result, ranOn: outcome.worker } as TaskResult;
    },
    isRetryable: (error) => (error instanceof RemoteJobError ? error.retryable : true),
    retryDelayMs: (error) => (error instanceof RemoteJobError ? error.retryDelayMs : undefined),
  };
}

interface TrackerOptions {
  url: string;
  onError: (message: string) => void;
  log: (line: string) => void;
  pollMs: number;
}

/**
 * The most attempts one `addBulk` carries. Redis makes a bulk's jobs visible together, so the
 * workers start on the first batch while the coordinator makes the next: 2000 tiny jobs through
 * two workers took 1.28 s in one bulk, 1.19 s in batches of 200 or 300 (medians of 9).
 */
const MOST_PER_BULK = 250;

/** Attempts queued together: one `addBulk`, sent at the end of the turn or when full. */
interface Batch {
  jobs: { name: string; data: RemoteJobData; opts: Record<string, unknown> }[];
  /** Settles when Redis has them. */
  done: Promise<void>;
  /** Sends them (once). */
  send: () => void;
}

interface Waiter {
  queue: Queue;
  data: RemoteJobData;
  resolve: (outcome: RemoteOutcome) => void;
  /** When its state is next asked for, if no worker has announced its outcome by then. */
  checkAt: number;
  /** The wait before the check after that: doubled each time, to {@linkcode MOST_QUIET_MS}. */
  quietMs: number;
}

/**
 * Waits for outcomes: from the queues' event streams, and by asking for each outstanding job's
 * state every `pollMs` (a missed event, a reconnect, a Redis that lost the job).
 */
class Tracker {
  readonly #queues: Record<PoolName, Queue>;
  readonly #client: Redis;
  readonly #options: TrackerOptions;
  readonly #waiters = new Map<string, Waiter>();
  readonly #batches = new Map<Queue, Batch>();

  /** Which worker runs each outstanding attempt, as the workers say. */
  readonly #runningOn = new Map<string, string>();
  /** What to call when each signal attempts wait on aborts (see `#whenAborted`). */
  readonly #abortHandlers = new WeakMap<AbortSignal, Set<() => void>>();
  #subscriber: Redis | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    queues: Record<PoolName, Queue>,
    client: Redis,
    options: TrackerOptions,
  ) {
    this.#queues = queues;
    this.#client = client;
    this.#options = options;
  }

  async start(): Promise<void> {
    const subscriber = connectRedis(this.#options.url, { onError: this.#options.onError });
    this.#subscriber = subscriber;
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === DONE_CHANNEL) {
        const split = message.indexOf("\n");
        void this.#settle(message.slice(0, split), parseOutcome(message.slice(split + 1)));
        return;
      }
      const [worker, ...ids] = message.split("\n");
      for (const id of ids) if (this.#waiters.has(id)) this.#runningOn.set(id, worker!);
    });
    await subscriber.subscribe(DONE_CHANNEL, STARTED_CHANNEL);
    this.#schedulePoll();
  }

  /** Each worker with what it runs now (the workers seen so far, idle ones too). */
  status(known: ReadonlyMap<string, number>): string[] {
    const running = new Map<string, string[]>();
    for (const worker of known.keys()) running.set(worker, []);
    for (const [id, worker] of this.#runningOn) {
      const name = this.#waiters.get(id)?.data.job.name;
      if (name === undefined) continue;
      let names = running.get(worker);
      if (!names) running.set(worker, names = []);
      names.push(name);
    }
    const lines = [...running].slice(0, 8).map(([worker, names]) =>
      `  ${worker}  ${names.length ? `${names.length} running: ${names.join(", ")}` : "idle"}`
    );
    if (running.size > 8) lines.push(`  and ${running.size - 8} more workers`);
    return lines.length ? ["workers", ...lines] : ["workers: none has taken a job yet"];
  }

  /** The outcome of attempt `id`: queued now unless Redis has it already. */
  async outcome(
    id: string,
    queue: Queue,
    data: RemoteJobData,
    signal: AbortSignal,
    options: { known: boolean },
  ): Promise<RemoteOutcome> {
    signal.throwIfAborted();
    const { promise, resolve, reject } = Promise.withResolvers<RemoteOutcome>();
    this.#waiters.set(id, {
      queue,
      data,
      resolve,
      checkAt: performance.now() + QUIET_MS,
      quietMs: QUIET_MS,
    });
    const known = options.known && await QueueJob.fromId(queue, id);
    if (!known) await this.#add(queue, id, data);
    else await this.#check(id);
    // An abort takes the attempt back from Redis and ends the wait.
    const onAbort = () => {
      this.#waiters.delete(id);
      void this.#cancel(queue, id);
      reject(signal.reason);
    };
    const forget = this.#whenAborted(signal, onAbort);
    try {
      return await promise;
    } finally {
      forget();
      this.#waiters.delete(id);
      this.#runningOn.delete(id);
    }
  }

  /**
   * Calls `onAbort` when `signal` aborts (now, if it has); returns what stops that. Attempts
   * share one listener per signal: thousands of waits on the run's signal, each with a listener
   * of its own, would make adding one cost as many as there are already.
   */
  #whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
    if (signal.aborted) {
      onAbort();
      return () => {};
    }
    let handlers = this.#abortHandlers.get(signal);
    if (!handlers) {
      const added = handlers = new Set();
      this.#abortHandlers.set(signal, added);
      signal.addEventListener("abort", () => {
        for (const handler of [...added]) handler();
        added.clear();
      }, { once: true });
    }
    const held = handlers;
    held.add(onAbort);
    return () => held.delete(onAbort);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#subscriber?.quit().catch(() => {});
  }

  /**
   * Queues an attempt. Attempts queued in the same turn of the event loop go to Redis together
   * (one `addBulk`: one round trip for many jobs).
   */
  #add(queue: Queue, id: string, data: RemoteJobData): Promise<void> {
    let batch = this.#batches.get(queue);
    if (!batch) {
      const pending = Promise.withResolvers<void>();
      const made: Batch = { jobs: [], done: pending.promise, send: () => {} };
      made.send = () => {
        made.send = () => {};
        if (this.#batches.get(queue) === made) this.#batches.delete(queue);
        queue.addBulk(made.jobs).then(() => pending.resolve(), pending.reject);
      };
      this.#batches.set(queue, batch = made);
      setTimeout(() => made.send(), 0);
    }
    batch.jobs.push({
      name: data.job.name,
      data,
      opts: {
        jobId: id,
        attempts: 1,
        removeOnComplete: { age: 7 * 86400 },
        removeOnFail: { age: 7 * 86400 },
      },
    });
    const { done } = batch;
    // A full batch goes now: the workers start on it while the next is made.
    if (batch.jobs.length >= MOST_PER_BULK) batch.send();
    return done;
  }

  async #cancel(queue: Queue, id: string): Promise<void> {
    try {
      await this.#client.publish(CANCEL_CHANNEL, id);
      const job = await QueueJob.fromId(queue, id);
      if (job && (await job.getState()) !== "active") await job.remove().catch(() => {});
    } catch {
      // The worker's lease, or the run's end, settles it.
    }
  }

  async #settle(id: string, outcome: RemoteOutcome | undefined): Promise<void> {
    if (!outcome) return;
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    if (outcome.cancelled) {
      // Cancelled by another coordinator of this run (one that was stopped): still wanted here.
      const job = await QueueJob.fromId(waiter.queue, id);
      if (!this.#waiters.has(id) || (job && (await job.getState()) !== "completed")) return;
      await job?.remove().catch(() => {});
      await this.#add(waiter.queue, id, waiter.data);
      return;
    }
    this.#waiters.delete(id);
    this.#runningOn.delete(id);
    waiter.resolve(outcome);
  }

  /** Asks Redis where one outstanding job stands, settling or re-queueing it. */
  async #check(id: string): Promise<void> {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    const job = await QueueJob.fromId(waiter.queue, id);
    if (!job) {
      this.#options.log(`taskpool: Redis no longer has ${waiter.data.job.name}: queued again`);
      await this.#add(waiter.queue, id, waiter.data);
      return;
    }
    const state = await job.getState();
    if (state === "completed") await this.#settle(id, parseOutcome(job.returnvalue));
    else if (state === "failed") await this.#settle(id, crashed(job.failedReason));
  }

  #schedulePoll() {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      // Only jobs nobody has announced for a while: most are announced long before.
      const now = performance.now();
      const ids = [...this.#waiters].filter(([, waiter]) => waiter.checkAt <= now).map(
        ([id, waiter]) => {
          waiter.quietMs = Math.min(MOST_QUIET_MS, waiter.quietMs * 2);
          waiter.checkAt = now + waiter.quietMs;
          return id;
        },
      );
      for (let i = 0; i < ids.length && !this.#stopped; i += 100) {
        await Promise.all(ids.slice(i, i + 100).map((id) => this.#check(id).catch(() => {})));
      }
      this.#schedulePoll();
    }, this.#options.pollMs);
  }
}

/**
 * How long an outstanding job goes without an announcement before its state is asked for (and
 * again after each such check).
 */
const QUIET_MS = 2000;

/** The longest wait between two checks of one outstanding job (a long queue costs little). */
const MOST_QUIET_MS = 10_000;

/** A worker's return value, as BullMQ hands it over (a JSON string or the object). */
function parseOutcome(value: unknown): RemoteOutcome | undefined {
  try {
    const outcome = typeof value === "string" ? JSON.parse(value) : value;
    return outcome && typeof outcome === "object" && "worker" in outcome
      ? outcome as RemoteOutcome
      : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of a job BullMQ failed itself (not a job's own failure, which is a value). */
function crashed(reason: string | undefined): RemoteOutcome {
  return {
    worker: "unknown",
    error: {
      message: `the worker failed: ${reason ?? "no reason given"}`,
      code: "WORKER",
      retryable: true,
    },
  };
}
