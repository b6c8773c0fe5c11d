/**
 * A distributed run's worker (`taskpool worker --redis URL`): takes attempts of plan jobs from
 * Redis and runs them with the same kinds and pools as a local run (downloads on its io pool,
 * compute on its Workers or host processes, commands as process groups), writing under its own
 * output folder.
 *
 * Before it runs a job it maps the coordinator's job-file folder and output onto its own
 * (`--dir`, `--output`), expands `${VAR}` from its own environment (a variable it lacks fails
 * the job, naming it), and checks that the files defining the job (a compute module) are the
 * coordinator's, by SHA-256.
 *
 * A job is held under a lease (`--lease`): a worker that dies loses it, and Redis gives the job
 * to another worker once the lease has run out, without using up a retry. SIGTERM or SIGINT: no
 * new job is taken, what runs may finish within `--kill-grace`, and what is still running then
 * is handed back to the queue for another worker.
 *
 * @module
 */
import { DelayedError, type Job as QueueJob, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { resolve } from "../util/posix_path.ts";
import { mapStrings } from "../util/map_strings.ts";
import type { Kinds, RunResources } from "../kind_definition.ts";
import type { Job } from "../jobfile/job.ts";
import type { JobKind } from "../scheduler/kind.ts";
import { errorCode, errorMessage } from "../errors.ts";
import { type Environment, interpolateDeep } from "../jobfile/interpolate.ts";
import { HttpTransport } from "../http/transport.ts";
import { ProcessPool } from "../pools/process/process_pool.ts";
import { WorkerPool } from "../pools/worker/worker_pool.ts";
import { connectRedis, showRedisUrl, whenReachable } from "./redis.ts";
import {
  CANCEL_CHANNEL,
  cancelKey,
  DONE_CHANNEL,
  type IntakeEntry,
  intakeKey,
  KEEP_SECONDS,
  LARGE_OUTCOME,
  outcomeKey,
  PREFIX,
  QUEUES,
  type RemoteError,
  type RemoteJobData,
  type RemoteOutcome,
  STARTED_CHANNEL,
} from "./protocol.ts";
import { sha256OfFile } from "./digests.ts";

/** Options for {@linkcode runWorker}. */
export interface WorkerOptions {
  redis: string;
  /** The worker's name; its label is `NAME@HOST:PID`. */
  name: string;
  /** Where its files go: the coordinator's output maps onto it. */
  output: string;
  /** Its copy of the job file's folder: the coordinator's maps onto it. */
  dir: string;
  io: number;
  cpu: number;
  /** How long a job stays this worker's without word from it. */
  leaseMs: number;
  /** How long running jobs may go on after SIGTERM before they are handed back. */
  killGraceMs: number;
  kinds: Kinds;
  /** Aborted by SIGTERM or SIGINT: take nothing more, finish or hand back, return. */
  signal: AbortSignal;
  /** Where `${VAR}` values come from. @default Deno.env.get */
  env?: Environment;
  /** One line of news (stderr). */
  log: (line: string) => void;
  /** Told once the worker takes jobs (tests wait for it). */
  onReady?: (label: string) => void;
}

/** Runs a worker until `options.signal` is aborted and its jobs are done or handed back. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { kinds, log } = options;
  const label = `${options.name}@${hostName()}:${Deno.pid}`;
  const env: Environment = options.env ?? ((name) => Deno.env.get(name));
  await Deno.mkdir(options.output, { recursive: true });
  const workers = new WorkerPool({ size: options.cpu });
  const processes = new ProcessPool({ size: options.cpu });
  const http = new HttpTransport({ maxIdlePerOrigin: options.io });
  const resources: RunResources = {
    output: options.output,
    computePools: () => Promise.resolve({ workers, processes }),
    httpTransport: () => Promise.resolve(http),
    perHost: 8,
    force: false,
    cpuPlace: "job",
    oneAtATime: false,
    killGraceMs: options.killGraceMs,
    sharedOutput: true,
  };
  const running = new Map<string, JobKind>();
  for (const kind of kinds) running.set(kind.name, await kind.create(resources));
  const fileDigests = new FileDigests();
  const verified = new Set<string>();
  // What runs at once: BullMQ hands out more (a few jobs ahead per slot, so that tiny jobs do not
  // wait for a round trip to Redis between them); these limits keep the pools' sizes.
  const slots = { io: new Semaphore(options.io), cpu: new Semaphore(options.cpu) };

  const onError = (message: string) =>
    log(`taskpool worker: redis ${showRedisUrl(options.redis)}: ${message}`);
  const active = new Map<string, AbortController>();
  let stopping = false;

  const subscriber = connectRedis(options.redis, { onError });
  try {
    await whenReachable(subscriber, options.redis);
  } catch (error) {
    subscriber.disconnect();
    await Promise.all([...running.values()].map((kind) => kind.close?.()));
    await workers.close();
    await processes.close();
    http.close();
    throw error;
  }
  // The commands of running jobs (a check before each, an outcome after): many jobs' in a write.
  const publisher = connectRedis(options.redis, { onError, autoPipelining: true });
  subscriber.on("message", (_channel: string, id: string) => {
    active.get(id)?.abort(new DOMException("cancelled by the coordinator", "AbortError"));
  });
  await subscriber.subscribe(CANCEL_CHANNEL);

  // Tells the coordinators' progress displays which worker runs what (fire and forget): the
  // jobs started within a moment in one message, as one for each tiny job would cost this worker
  // and each coordinator about as much as the job.
  let starting: string[] = [];
  let announcing: ReturnType<typeof setTimeout> | undefined;
  const announce = (id: string) => {
    starting.push(id);
    announcing ??= setTimeout(() => {
      const ids = starting;
      starting = [];
      announcing = undefined;
      publisher.publish(STARTED_CHANNEL, [label, ...ids].join("\n")).catch(() => {});
    }, ANNOUNCE_MS);
  };

  const process = async (queued: QueueJob, token?: string): Promise<RemoteOutcome> => {
    const data = queued.data as RemoteJobData;
    const id = queued.id!;
    const controller = new AbortController();
    active.set(id, controller);
    const started = () => announce(id);
    try {
      // Finished already (an entry pushed twice), or cancelled while it waited: nothing to run.
      const [done, cancelled] = await publisher.mget(outcomeKey(id), cancelKey(id));
      if (typeof done === "string") return told(JSON.parse(done) as RemoteOutcome, done);
      if (typeof cancelled === "string") {
        return await kept(id, {
          ...failed("cancelled by its coordinator", "CANCELLED", true),
          cancelled: true,
        });
      }
      const outcome = await runOne(data, controller.signal, started, token !== undefined);
      const stopped = stopping && controller.signal.aborted;
      if ((outcome === HANDED_BACK || stopped) && token !== undefined) {
        // Back to the queue, for another worker: stopped by SIGTERM past the grace, or taken
        // ahead and kept waiting for a slot here. No retry is used.
        await queued.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return await kept(id, outcome);
    } finally {
      active.delete(id);
    }
  };

  /** `outcome`, once Redis keeps it for those that missed its announcement. */
  const kept = async (id: string, outcome: RemoteOutcome): Promise<RemoteOutcome> => {
    const text = JSON.stringify(outcome);
    await publisher.set(outcomeKey(id), text, "EX", KEEP_SECONDS);
    return told(outcome, text);
  };

  /** What BullMQ keeps and the announcement says of `outcome`: itself, or where a large one is. */
  const told = (outcome: RemoteOutcome, text: string): RemoteOutcome =>
    text.length < LARGE_OUTCOME ? outcome : { worker: outcome.worker, stored: true };

  const runOne = async (
    data: RemoteJobData,
    signal: AbortSignal,
    started: () => void,
    mayHandBack: boolean,
  ): Promise<RemoteOutcome> => {
    const kind = running.get(data.job.kind);
    if (!kind) {
      return failed(`this worker has no job kind "${data.job.kind}"`, "UNKNOWN_KIND", false);
    }
    const mapped = mapPaths(data.job, data.origin, {
      baseDir: options.dir,
      output: options.output,
    });
    const { value: job, missing } = interpolateDeep(mapped, env);
    if (missing.length > 0) {
      return failed(
        `worker ${label} lacks ${missing.map((name) => `\${${name}}`).join(", ")}: set it in ` +
          `the worker's environment or --env-file`,
        "MISSING_VARIABLE",
        false,
      );
    }
    // The coordinator's definition files, each here under --dir: checked once per entry of a
    // run, whose members were sent the same digests.
    const key = `${data.run}\u0000${job.kind}\u0000${job.group}`;
    for (const [path, expected] of verified.has(key) ? [] : Object.entries(data.digests)) {
      const actual = await fileDigests.of(resolve(options.dir, path));
      if (actual === "missing") {
        return failed(
          `worker ${label} has no ${path} in its --dir ${options.dir} (the coordinator's is ` +
            `${data.origin.baseDir}): start the worker in its copy of the job file's folder, ` +
            `or pass --dir`,
          "DEFINITION_MISSING",
          false,
        );
      }
      if (actual !== expected) {
        return failed(
          `worker ${label} has a different ${path} from the coordinator's (sha256 ` +
            `${actual.slice(0, 12)}, the coordinator's ${
              expected.slice(0, 12)
            }): update its checkout`,
          "DEFINITION_DIFFERS",
          false,
        );
      }
    }
    verified.add(key);
    if (verified.size > 10_000) verified.delete(verified.values().next().value!);
    const slot = slots[kind.pool];
    try {
      // A job taken ahead that finds no free slot soon goes back: another worker may be idle.
      const wait = slot.free > 0 || !mayHandBack
        ? signal
        : AbortSignal.any([signal, AbortSignal.timeout(HAND_BACK_MS)]);
      try {
        await slot.take(wait);
      } catch (error) {
        if (signal.aborted) throw error;
        return HANDED_BACK;
      }
      started();
      const result = await kind.run(job, {
        signal,
        attempt: data.attempt,
        needs: new Map(data.needs),
      }).finally(() => slot.give());
      return { worker: label, result };
    } catch (error) {
      const remote: RemoteError = {
        message: errorMessage(error),
        code: errorCode(error),
        retryable: kind.isRetryable?.(error) ?? true,
      };
      const delay = kind.retryDelayMs?.(error, job);
      if (delay !== undefined) remote.retryDelayMs = delay;
      const detail = detailOf(error);
      if (detail) remote.detail = detail;
      return { worker: label, error: remote, ...(signal.aborted ? { cancelled: true } : {}) };
    }
  };

  const failed = (message: string, code: string, retryable: boolean): RemoteOutcome => ({
    worker: label,
    error: { message, code, retryable },
  });

  const queueWorkers = (["io", "cpu"] as const).map((pool) =>
    new Worker(QUEUES[pool], process, {
      connection: connectRedis(options.redis, { onError }),
      prefix: PREFIX,
      concurrency: options[pool] * JOBS_AHEAD[pool],
      lockDuration: options.leaseMs,
      // Checked twice a lease: a dead worker's job is found about one lease after its last word.
      stalledInterval: Math.max(500, Math.round(options.leaseMs / 2)),
      // A job whose worker died goes back to the queue however often that happens: a stall is
      // not the job's failure and uses up none of its retries.
      maxStalledCount: 1000,
      autorun: true,
    })
  );
  for (const worker of queueWorkers) {
    worker.on("error", (error: Error) => onError(error.message));
    // Announced once BullMQ has recorded it: a coordinator never learns of an outcome that a
    // crash of this worker could still undo.
    worker.on("completed", (job: QueueJob, outcome: RemoteOutcome) => {
      publisher.publish(DONE_CHANNEL, `${job.id}\n${JSON.stringify(outcome)}`).catch(() => {});
    });
  }
  await Promise.all(queueWorkers.map((worker) => worker.waitUntilReady()));
  // The mover waits on one connection and adds on another, so that the commands of running
  // jobs (on `publisher`) never queue behind a bulk of additions.
  const intake = connectRedis(options.redis, { onError });
  const adder = connectRedis(options.redis, { onError });
  const moving = moveIntake(intake, adder, () => stopping, log);
  log(
    `taskpool worker ${label}: taking jobs from ${showRedisUrl(options.redis)} ` +
      `(io ${options.io}, cpu ${options.cpu}, lease ${options.leaseMs} ms)`,
  );
  options.onReady?.(label);

  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  stopping = true;
  log(`taskpool worker ${label}: stopping; ${active.size} jobs running`);
  const grace = setTimeout(() => {
    for (const controller of active.values()) {
      controller.abort(new DOMException("the worker is stopping", "AbortError"));
    }
  }, options.killGraceMs);
  try {
    intake.disconnect();
    await moving;
    await Promise.all(queueWorkers.map((worker) => worker.close()));
  } finally {
    clearTimeout(grace);
    if (announcing !== undefined) clearTimeout(announcing);
    await subscriber.quit().catch(() => {});
    await adder.quit().catch(() => {});
    await publisher.quit().catch(() => {});
    await Promise.all([...running.values()].map((kind) => kind.close?.()));
    await workers.close();
    await processes.close();
    http.close();
  }
  log(`taskpool worker ${label}: stopped`);
}

/**
 * Moves the attempts coordinators push onto the intake lists into BullMQ's queues, until
 * `intake` (a connection of its own, which waits on the lists) is disconnected. A batch taken
 * from the list and lost with this worker is pushed again by its coordinator, which finds
 * neither the job nor an entry.
 */
async function moveIntake(
  intake: Redis,
  connection: Redis,
  stopping: () => boolean,
  log: (line: string) => void,
): Promise<void> {
  const queues = {
    io: new Queue(QUEUES.io, { connection, prefix: PREFIX }),
    cpu: new Queue(QUEUES.cpu, { connection, prefix: PREFIX }),
  };
  const lists = { [intakeKey("io")]: "io", [intakeKey("cpu")]: "cpu" } as const;
  // Each list first in turn, so that neither waits for the other to empty.
  const order = [intakeKey("io"), intakeKey("cpu")];
  // Lists found empty: the next entries of one are moved a few first, so that the workers start
  // on them while the rest are moved.
  const emptied = new Set(order);
  try {
    for (;;) {
      let first: [string, string] | null;
      try {
        first = await intake.blpop(...order, 0);
      } catch {
        if (stopping()) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      order.reverse();
      if (!first) continue;
      const [list, head] = first;
      const asked = (emptied.has(list) ? FIRST_MOVED : MOST_MOVED) - 1;
      const rest = await intake.lpop(list, asked).catch(() => null) ?? [];
      if (rest.length < asked) emptied.add(list);
      else emptied.delete(list);
      await moveInto(queues[lists[list]!], list, [head, ...rest], log);
    }
  } finally {
    await Promise.all([queues.io.close(), queues.cpu.close()]);
  }
}

/** Queues the entries `texts` taken from `list` in `queue`, skipping any that are not JSON. */
async function moveInto(
  queue: Queue,
  list: string,
  texts: string[],
  log: (line: string) => void,
): Promise<void> {
  const adds = [];
  for (const text of texts) {
    let entry: IntakeEntry;
    try {
      entry = JSON.parse(text);
    } catch {
      log(`taskpool worker: dropped an entry of ${list} that is not JSON`);
      continue;
    }
    // Replaced: cancelled by a coordinator, wanted by the one that picked the run up.
    if (entry.replace) {
      await queue.remove(entry.id).catch(() => 0);
      await queue.client.then((client) => client.del(outcomeKey(entry.id))).catch(() => 0);
    }
    adds.push({ name: entry.data.job.name, data: entry.data, opts: jobOptions(entry.id) });
  }
  // An id BullMQ has already is the same job: an entry pushed twice is queued once.
  await queue.addBulk(adds).catch((error: Error) =>
    log(`taskpool worker: could not queue ${adds.length} jobs: ${error.message}`)
  );
}

/** The entries moved first from an intake list that had none. */
const FIRST_MOVED = 32;

/** The most entries moved from an intake list into BullMQ at once. */
const MOST_MOVED = 100;

function jobOptions(id: string) {
  return {
    jobId: id,
    attempts: 1,
    removeOnComplete: true, // its outcome is kept under outcomeKey
    removeOnFail: { age: KEEP_SECONDS },
  };
}

/** How long the jobs a worker starts are gathered before it says which they are. */
const ANNOUNCE_MS = 100;

/**
 * Jobs a worker takes per slot: those beyond its slots wait here rather than for a round trip to
 * Redis, which keeps tiny jobs coming; one that waits {@linkcode HAND_BACK_MS} goes back to the
 * queue, so that long jobs taken ahead do not wait here while another worker idles.
 */
const JOBS_AHEAD = { io: 2, cpu: 8 };

/** How long a job taken ahead may wait for a slot before it goes back to the queue. */
const HAND_BACK_MS = 1000;

/** What `runOne` says of a job it handed back: not an outcome, the job runs elsewhere. */
const HANDED_BACK: RemoteOutcome = Object.freeze({ worker: "" });

/** A count of slots that waiters take in turn. */
class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Slots free now. */
  get free(): number {
    return this.#free;
  }

  take(signal: AbortSignal): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal.reason);
      };
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#waiting.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Files' SHA-256, read again only when a file's size or mtime changed. */
class FileDigests {
  readonly #known = new Map<string, { stamp: string; digest: Promise<string> }>();

  async of(path: string): Promise<string> {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info) return "missing";
    const stamp = `${info.size}:${info.mtime?.getTime()}`;
    let known = this.#known.get(path);
    if (known?.stamp !== stamp) {
      known = { stamp, digest: sha256OfFile(path).catch(() => "missing") };
      this.#known.set(path, known);
    }
    return await known.digest;
  }
}

/**
 * `job` with the coordinator's folders replaced by this worker's, in every string that starts
 * with one (as a path or a `file:` URL).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapPaths } from "./worker.ts";
 * const from = { baseDir: "/srv/jobs", output: "/srv/jobs/out" };
 * const to = { baseDir: "/w/jobs", output: "/w/out" };
 * const job = { path: "/srv/jobs/out/a.png", url: "file:///srv/jobs/m.ts", keep: ["/srv/jobsx"] };
 * assert.deepEqual(mapPaths(job, from, to), {
 *   path: "/w/out/a.png",
 *   url: "file:///w/jobs/m.ts",
 *   keep: ["/srv/jobsx"],
 * });
 * assert.equal(mapPaths(job, from, from), job);
 * ```
 */
export function mapPaths<T>(
  job: T,
  from: { baseDir: string; output: string },
  to: { baseDir: string; output: string },
): T {
  // Each folder as a path and as a `file:` URL; the longer prefix first: the output is often
  // inside the job file's folder.
  const pairs = [[from.output, resolve(to.output)], [from.baseDir, resolve(to.baseDir)]]
    .filter(([old, now]) => old !== now)
    .flatMap(([old, now]) => [[old!, now!], [`file://${old}`, `file://${now}`]])
    .sort((a, b) => b[0]!.length - a[0]!.length);
  const map = (text: string): string => {
    for (const [prefix, replacement] of pairs) {
      if (
        text.startsWith(prefix!) && (text.length === prefix!.length || text[prefix!.length] === "/")
      ) {
        return `${replacement}${text.slice(prefix!.length)}`;
      }
    }
    return text;
  };
  // What has no such path comes back as it is (most of a job), not copied.
  return pairs.length === 0 ? job : mapStrings(job, map);
}

function detailOf(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return undefined;
  for (const key of ["workerStack", "stderrTail"]) {
    const value = (error as Record<string, unknown>)[key];
    if (typeof value === "string" && value) return value;
  }
  return undefined;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** The plan job type, re-exported for the command. */
export type { Job };
