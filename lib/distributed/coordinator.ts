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
 * - a timeout, `--fail-fast` or an interrupt cancels the attempt: a worker that has not started
 *   it yet runs nothing, and one that runs it stops (a message on `taskpool:cancel`).
 *
 * It speaks to Redis with its own small client (resp.ts) and pushes attempts onto intake lists
 * that the workers move into BullMQ (protocol.ts), so that a run starts without loading BullMQ and
 * ioredis.
 *
 * @module
 */
import type { Job, Plan } from "../jobfile/job.ts";
import type { KindDefinition, Kinds } from "../kind_definition.ts";
import type { JobKind, PoolName, TaskContext, TaskResult } from "../scheduler/kind.ts";
import { caCertOf, loginRefused, RedisUnavailableError, showRedisUrl } from "./redis_url.ts";
import { type Reply, RespClient, RespReplyError } from "./resp.ts";
import {
  CANCEL_CHANNEL,
  cancelKey,
  DONE_CHANNEL,
  type IntakeEntry,
  intakeKey,
  jobKey,
  KEEP_SECONDS,
  outcomeKey,
  PREFIX,
  type RemoteJobData,
  RemoteJobError,
  remoteJobId,
  type RemoteOutcome,
  STARTED_CHANNEL,
} from "./protocol.ts";
import { DefinitionDigests } from "./digests.ts";
import { sha256Hex } from "../util/bytes.ts";
import { redactText, urlSecrets } from "../util/secrets.ts";

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

/**
 * How long a coordinator waits for Redis to take the run's last writes as it ends. Less than the
 * 10 s a container runtime gives a process between SIGTERM and SIGKILL, so that the report and
 * summary come first.
 */
const CLOSE_TIMEOUT_MS = 5_000;

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
  // Until Redis first answers, what goes wrong is said once, in the error that ends the wait.
  let answered = false;
  let lastError: string | undefined;
  const onError = (message: string) => {
    lastError = message;
    if (answered) log(`taskpool: redis ${showRedisUrl(url)}: ${message}`);
  };
  const caCert = url.startsWith("rediss:") ? caCertOf() : undefined;
  const connect = (onMessage?: (channel: string, message: string) => void) =>
    new RespClient(url, {
      onError,
      ...(caCert ? { caCert } : {}),
      ...(onMessage ? { onMessage } : {}),
    });
  const client = connect();
  const tracker = new Tracker(client, { log, pollMs: options.pollMs ?? 1000 });
  const subscriber = connect((channel, message) => tracker.heard(channel, message));
  let run: string;
  let resumed: boolean;
  const digest = await planDigest(plan);
  const pointer = `${PREFIX}:run:${digest}`;
  try {
    await whenAnswers(client, url, () => lastError);
    answered = true;
    const [known] = await Promise.all([
      client.send("GET", pointer),
      subscriber.subscribe(DONE_CHANNEL, STARTED_CHANNEL),
    ]);
    resumed = typeof known === "string";
    if (typeof known === "string") {
      run = known;
      log(`taskpool: picking up run ${run} of ${plan.file} (completed jobs are not run again)`);
    } else {
      run = `${digest.slice(0, 16)}-${Date.now().toString(36)}`;
      await client.send("SET", pointer, run);
    }
  } catch (error) {
    client.close();
    subscriber.close();
    // Full: the run cannot start, and may once Redis has room (exit 75, as when unreachable).
    const full = sayingFull(error);
    throw full === error ? error : new RedisUnavailableError((full as Error).message);
  }
  tracker.start();
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
        tracker,
        digests,
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
      tracker.stop();
      const said = (async () => {
        await subscriber.quit();
        await tracker.sent();
        if (finished) await client.send("DEL", pointer).catch(() => {});
        await client.quit();
      })();
      // A Redis gone for good must not hold the run (and its output's lock) for ever.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
      });
      const done = await Promise.race([said.then(() => true), late]);
      clearTimeout(timer);
      if (done) return;
      log(
        `taskpool: Redis at ${showRedisUrl(url)} did not answer within ` +
          `${CLOSE_TIMEOUT_MS / 1000}s; what it had yet to take of run ${run} ` +
          `(cancel marks, its end) is not there`,
      );
      subscriber.close();
      client.close();
      await said.catch(() => {});
    },
  };
}

/**
 * Resolves once `client` answers; a refused password is a usage error (exit 2), and a Redis that
 * does not answer within `timeoutMs` is unavailable (exit 75, with `lastError()`, the connection's
 * last error), both naming the URL redacted.
 */
async function whenAnswers(
  client: RespClient,
  url: string,
  lastError: () => string | undefined,
  timeoutMs = 10_000,
): Promise<void> {
  const shown = showRedisUrl(url);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const last = lastError();
      reject(
        new RedisUnavailableError(
          `Redis at ${shown} did not answer within ${timeoutMs / 1000}s${last ? `: ${last}` : ""}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([
      client.send("PING").catch((error: Error) => {
        throw loginRefused(error, url) ?? new RedisUnavailableError(
          `Redis at ${shown} failed: ${redactText(error.message, urlSecrets(url))}`,
        );
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The digest that names a plan's run: its file, output and jobs. */
async function planDigest(plan: Plan): Promise<string> {
  const text = JSON.stringify({ file: plan.file, output: plan.output, jobs: plan.jobs });
  return await sha256Hex(new TextEncoder().encode(text));
}

interface RemoteKindContext {
  run: string;
  /** Whether the run was picked up: only then may Redis know an attempt already. */
  resumed: boolean;
  plan: Plan;
  baseDir: string;
  tracker: Tracker;
  digests: DefinitionDigests;
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
      const outcome = await context.tracker.outcome(id, definition.pool, data, task.signal, {
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
  log: (line: string) => void;
  pollMs: number;
}

/**
 * The most attempts one push onto an intake list carries. The workers start on the first while
 * the coordinator makes the next.
 */
const MOST_PER_PUSH = 250;

/** Attempts pushed together: one `RPUSH`, sent at the end of the turn or when full. */
interface Batch {
  entries: string[];
  /** Settles when Redis has them. */
  done: Promise<void>;
  /** Sends them (once). */
  send: () => void;
}

interface Waiter {
  pool: PoolName;
  data: RemoteJobData;
  resolve: (outcome: RemoteOutcome) => void;
  /** When its state is next asked for, if no worker has announced its outcome by then. */
  checkAt: number;
  /** The wait before the check after that: doubled each time, to {@linkcode MOST_QUIET_MS}. */
  quietMs: number;
}

/**
 * Waits for outcomes: as the workers announce them, and by asking for each outstanding job's
 * state every `pollMs` (a missed announcement, a reconnect, a Redis that lost the job).
 */
class Tracker {
  readonly #client: RespClient;
  readonly #options: TrackerOptions;
  readonly #waiters = new Map<string, Waiter>();
  readonly #batches = new Map<PoolName, Batch>();
  /** Pushes not yet answered. */
  readonly #pushing = new Set<Promise<void>>();

  /** Which worker runs each outstanding attempt, as the workers say. */
  readonly #runningOn = new Map<string, string>();
  /** What to call when each signal attempts wait on aborts (see `#whenAborted`). */
  readonly #abortHandlers = new WeakMap<AbortSignal, Set<() => void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(client: RespClient, options: TrackerOptions) {
    this.#client = client;
    this.#options = options;
  }

  start(): void {
    this.#schedulePoll();
  }

  /** A message on the channels the coordinator listens to. */
  heard(channel: string, message: string): void {
    if (channel === DONE_CHANNEL) {
      const split = message.indexOf("\n");
      const id = message.slice(0, split);
      const outcome = parseOutcome(message.slice(split + 1));
      // A large outcome is only said to be there: it is read once, from its key.
      if (outcome?.stored) void this.#check(id).catch(() => {});
      else void this.#settle(id, outcome);
      return;
    }
    const [worker, ...ids] = message.split("\n");
    for (const id of ids) if (this.#waiters.has(id)) this.#runningOn.set(id, worker!);
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

  /**
   * The outcome of attempt `id`: pushed now, unless the run was picked up (`known`) and Redis has
   * the job already.
   */
  async outcome(
    id: string,
    pool: PoolName,
    data: RemoteJobData,
    signal: AbortSignal,
    options: { known: boolean },
  ): Promise<RemoteOutcome> {
    signal.throwIfAborted();
    const { promise, resolve, reject } = Promise.withResolvers<RemoteOutcome>();
    this.#waiters.set(id, {
      pool,
      data,
      resolve,
      checkAt: performance.now() + QUIET_MS,
      quietMs: QUIET_MS,
    });
    if (options.known) {
      // Cancelled by the coordinator this one takes over from: wanted again.
      await this.#client.send("DEL", cancelKey(id));
      await this.#check(id, { known: true });
    } else await this.#push(pool, { id, data });
    // An abort takes the attempt back and ends the wait.
    const onAbort = () => {
      this.#waiters.delete(id);
      void this.#cancel(id);
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

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Resolves once Redis has every push and cancel sent so far. */
  async sent(): Promise<void> {
    for (const batch of this.#batches.values()) batch.send();
    await Promise.allSettled([...this.#pushing]);
  }

  /**
   * Pushes an attempt onto its pool's intake list. Attempts pushed in the same turn of the event
   * loop go to Redis together (one `RPUSH`, one round trip for many jobs).
   */
  #push(pool: PoolName, entry: IntakeEntry): Promise<void> {
    let batch = this.#batches.get(pool);
    if (!batch) {
      const made: Batch = { entries: [], done: Promise.resolve(), send: () => {} };
      const pending = Promise.withResolvers<void>();
      made.done = pending.promise;
      made.send = () => {
        made.send = () => {};
        if (this.#batches.get(pool) === made) this.#batches.delete(pool);
        const sent = this.#client.send("RPUSH", intakeKey(pool), ...made.entries)
          .then(() => pending.resolve(), (error) => pending.reject(sayingFull(error)));
        this.#pushing.add(sent);
        void sent.finally(() => this.#pushing.delete(sent));
      };
      this.#batches.set(pool, batch = made);
      setTimeout(() => made.send(), 0);
    }
    batch.entries.push(JSON.stringify(entry));
    const { done } = batch;
    // A full batch goes now: the workers start on it while the next is made.
    if (batch.entries.length >= MOST_PER_PUSH) batch.send();
    return done;
  }

  /** Marks an attempt cancelled and tells a worker that runs it to stop. */
  async #cancel(id: string): Promise<void> {
    const done = Promise.all([
      this.#client.send("SET", cancelKey(id), "1", "EX", KEEP_SECONDS),
      this.#client.send("PUBLISH", CANCEL_CHANNEL, id),
    ]).then(() => {}, () => {});
    this.#pushing.add(done);
    await done;
    this.#pushing.delete(done);
  }

  async #settle(id: string, outcome: RemoteOutcome | undefined): Promise<void> {
    if (!outcome) return;
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    if (outcome.cancelled) {
      // Cancelled by another coordinator of this run (one that was stopped): still wanted here.
      await this.#client.send("DEL", cancelKey(id));
      if (this.#waiters.has(id)) {
        await this.#push(waiter.pool, { id, data: waiter.data, replace: true });
      }
      return;
    }
    this.#waiters.delete(id);
    this.#runningOn.delete(id);
    waiter.resolve(outcome);
  }

  /**
   * Asks Redis where one outstanding job stands: settles it when finished; pushes it again when
   * Redis has neither the job nor an entry waiting to be queued (it restarted empty, or a worker
   * died while it queued it: a job that turns up twice is queued once), or, with `known`, when
   * the run's earlier coordinator had not pushed it.
   */
  async #check(id: string, { known = false } = {}): Promise<void> {
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    const [outcome, fields, waiting] = await Promise.all([
      this.#client.send("GET", outcomeKey(id)),
      this.#client.send(
        "HMGET",
        jobKey(waiter.pool, id),
        "timestamp",
        "finishedOn",
        "returnvalue",
        "failedReason",
      ),
      this.#client.send("LLEN", intakeKey(waiter.pool)),
    ]) as [Reply, Reply[], number];
    const [timestamp, finishedOn, returnvalue, failedReason] = fields;
    if (outcome !== null) {
      await this.#settle(id, parseOutcome(outcome));
    } else if (timestamp === null) {
      if (waiting > 0 && !known) return;
      if (!known) {
        this.#options.log(`taskpool: Redis no longer has ${waiter.data.job.name}: queued again`);
      }
      await this.#push(waiter.pool, { id, data: waiter.data });
    } else if (finishedOn !== null) {
      await this.#settle(
        id,
        returnvalue !== null ? parseOutcome(returnvalue) : crashed(failedReason as string | null),
      );
    }
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

/** Redis's refusal when it is full (`OOM ...`), in words that say what to do; others as they are. */
function sayingFull(error: unknown): unknown {
  if (!(error instanceof RespReplyError) || !error.message.startsWith("OOM ")) return error;
  return new RespReplyError(
    `Redis is full (its maxmemory): free some of it or raise maxmemory; each finished attempt's ` +
      `outcome stays there for 7 days (docs/distributed.md). Redis said: ${error.message}`,
  );
}

/** A worker's outcome, as JSON (an outcome key, a return value, an announcement). */
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
function crashed(reason: string | null): RemoteOutcome {
  return {
    worker: "unknown",
    error: {
      message: `the worker failed: ${reason ?? "no reason given"}`,
      code: "WORKER",
      retryable: true,
    },
  };
}
