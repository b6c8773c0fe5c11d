import assert from "node:assert/strict";
import { FailFastError } from "../../lib/scheduler/scheduler.ts";
import { InterruptedError } from "../../lib/errors.ts";
import type { JobOutcome, RunEvent } from "../../lib/scheduler/events.ts";
import type { Job } from "../../lib/jobfile/job.ts";
import type { CommandResult } from "../../tasks/command/job.ts";
import { trueJob } from "../helpers/jobs.ts";
import { scheduleJobs as schedule, type SchedulerOptions } from "../../lib/scheduler/scheduler.ts";
import type { JobKind, KindRegistry, PoolName } from "../../lib/scheduler/kind.ts";

/**
 * Runs `jobs` through the scheduler and resolves with each one's outcome, by name, in the jobs'
 * order: the scheduler tells each outcome once, in its `job-finished` event, and keeps none.
 */
async function scheduleJobs(
  jobs: readonly Job[],
  options: SchedulerOptions,
): Promise<Map<string, JobOutcome>> {
  const told: [number, string, JobOutcome][] = [];
  await schedule(jobs, {
    ...options,
    onEvent: (event) => {
      if (event.type === "job-finished") told.push([event.index, event.job.name, event.outcome]);
      options.onEvent?.(event);
    },
  });
  return new Map(told.sort((a, b) => a[0] - b[0]).map(([, name, outcome]) => [name, outcome]));
}

/** A run job with only what the scheduler reads. */
const job = trueJob;

/** Kinds whose attempts are decided by the test through `behave`. */
function kinds(
  behave: (job: Job, signal: AbortSignal, attempt: number) => Promise<CommandResult>,
  pool: PoolName = "cpu",
  isRetryable?: (error: unknown) => boolean,
): KindRegistry {
  const kind: JobKind<Job, CommandResult> = {
    pool,
    run: (job, { signal, attempt }) => behave(job, signal, attempt),
    ...(isRetryable ? { isRetryable } : {}),
  };
  return new Map([["run", kind]]);
}

Deno.test("scheduleJobs() starts a job only after all its needs succeeded", async () => {
  const order: string[] = [];
  const outcomes = await scheduleJobs([
    job("c", { needs: ["a", "b"] }),
    job("a"),
    job("b", { needs: ["a"] }),
  ], {
    kinds: kinds((job) => {
      order.push(job.name);
      return Promise.resolve({ exitCode: 0 });
    }),
    limits: { io: 4, cpu: 4 },
  });
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.deepEqual([...outcomes.values()].map((o) => o.status), ["ok", "ok", "ok"]);
});

Deno.test("scheduleJobs() never runs more than the pool's limit at once", async () => {
  let running = 0;
  let peak = 0;
  const jobs = Array.from({ length: 20 }, (_, i) => job(`j${i}`));
  await scheduleJobs(jobs, {
    kinds: kinds(async () => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running--;
      return {};
    }),
    limits: { io: 1, cpu: 3 },
  });
  assert.equal(peak, 3);
});

Deno.test("scheduleJobs() skips the dependents of a failed job and runs the rest", async () => {
  const ran: string[] = [];
  const outcomes = await scheduleJobs([
    job("bad"),
    job("child", { needs: ["bad"] }),
    job("grandchild", { needs: ["child"] }),
    job("independent"),
  ], {
    kinds: kinds((job) => {
      ran.push(job.name);
      return job.name === "bad" ? Promise.reject(new Error("boom")) : Promise.resolve({});
    }),
    limits: { io: 1, cpu: 1 },
  });
  assert.deepEqual(ran, ["bad", "independent"]);
  assert.equal(outcomes.get("bad")?.status, "failed");
  assert.equal(outcomes.get("child")?.status, "skipped");
  assert.match(String(outcomes.get("child")?.error), /needs "bad", which failed/);
  assert.equal(outcomes.get("grandchild")?.status, "skipped");
  assert.equal(outcomes.get("independent")?.status, "ok");
});

Deno.test("scheduleJobs() skips a chain of 20,000 jobs, each needing the one before, when its first fails", async () => {
  const count = 20_000;
  const jobs = Array.from(
    { length: count },
    (_, i) => job(`j${i}`, i === 0 ? {} : { needs: [`j${i - 1}`] }),
  );
  const outcomes = await scheduleJobs(jobs, {
    kinds: kinds(() => Promise.reject(new Error("boom"))),
    limits: { io: 1, cpu: 1 },
  });
  assert.equal(outcomes.get("j0")?.status, "failed");
  const statuses = [...outcomes.values()].map((outcome) => outcome.status);
  assert.equal(statuses.filter((status) => status === "skipped").length, count - 1);
  assert.match(String(outcomes.get(`j${count - 1}`)?.error), new RegExp(`needs "j${count - 2}"`));
});

Deno.test("scheduleJobs() with fail-fast skips, not cancels, every job below the one that failed", async () => {
  const outcomes = await scheduleJobs([
    job("bad"),
    job("child", { needs: ["bad"] }),
    job("grandchild", { needs: ["child"] }),
    job("other", { needs: ["never"] }),
    job("never"),
  ], {
    kinds: kinds((job) =>
      job.name === "bad" ? Promise.reject(new Error("boom")) : new Promise(() => {})
    ),
    limits: { io: 1, cpu: 1 },
    failFast: true,
  });
  assert.deepEqual(
    [...outcomes].map(([name, outcome]) => [name, outcome.status]),
    [["bad", "failed"], ["child", "skipped"], ["grandchild", "skipped"], ["other", "cancelled"], [
      "never",
      "cancelled",
    ]],
  );
});

Deno.test("scheduleJobs() retries a retryable failure with back-off, recording each attempt", async () => {
  const events: RunEvent[] = [];
  const outcomes = await scheduleJobs([job("flaky", { retries: 2, backoffMs: 4 })], {
    kinds: kinds((_, __, attempt) =>
      attempt < 3 ? Promise.reject(new Error(`fail ${attempt}`)) : Promise.resolve({})
    ),
    limits: { io: 1, cpu: 1 },
    random: () => 0.5,
    onEvent: (event) => events.push(event),
  });
  const outcome = outcomes.get("flaky")!;
  assert.equal(outcome.status, "ok");
  assert.equal(outcome.attempts.length, 3);
  assert.deepEqual(outcome.attempts.map((a) => String(a.error ?? "")), [
    "Error: fail 1",
    "Error: fail 2",
    "",
  ]);
  const delays = events.flatMap((e) => e.type === "job-retrying" ? [e.delayMs] : []);
  assert.deepEqual(delays, [2, 4]); // random 0.5 x base 4ms x 2^(attempt-1)
});

Deno.test("scheduleJobs() does not retry what the kind calls permanent", async () => {
  let attempts = 0;
  const outcomes = await scheduleJobs([job("gone", { retries: 5 })], {
    kinds: kinds(
      () => {
        attempts++;
        return Promise.reject(new Error("404"));
      },
      "cpu",
      () => false,
    ),
    limits: { io: 1, cpu: 1 },
  });
  assert.equal(outcomes.get("gone")?.status, "failed");
  assert.equal(attempts, 1);
});

Deno.test("scheduleJobs() fails an attempt that exceeds its timeout with a TimeoutError", async () => {
  const outcomes = await scheduleJobs([job("slow", { timeoutMs: 5 })], {
    kinds: kinds((_, signal) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
    ),
    limits: { io: 1, cpu: 1 },
  });
  const outcome = outcomes.get("slow")!;
  assert.equal(outcome.status, "failed");
  assert.equal((outcome.error as DOMException).name, "TimeoutError");
});

Deno.test("scheduleJobs() with failFast aborts running jobs and cancels the rest", async () => {
  const blocked = Promise.withResolvers<void>();
  const outcomes = await scheduleJobs([
    job("long"),
    job("bad"),
    job("queued"),
    job("later", { needs: ["long"] }),
  ], {
    kinds: kinds(async (job, signal) => {
      if (job.name === "long") {
        blocked.resolve();
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason))
        );
      }
      await blocked.promise; // "bad" fails only once "long" is running
      throw new Error("bad failed");
    }),
    limits: { io: 1, cpu: 2 },
    failFast: true,
  });
  assert.equal(outcomes.get("bad")?.status, "failed");
  assert.equal(outcomes.get("long")?.status, "cancelled");
  assert.ok(outcomes.get("long")?.error instanceof FailFastError);
  assert.equal(outcomes.get("queued")?.status, "cancelled");
  assert.equal(outcomes.get("queued")?.attempts.length, 0);
  assert.equal(outcomes.get("later")?.status, "cancelled");
});

Deno.test("scheduleJobs() cancels everything when the run's signal is aborted", async () => {
  const controller = new AbortController();
  const started = Promise.withResolvers<void>();
  const run = scheduleJobs([job("a"), job("b", { needs: ["a"] })], {
    kinds: kinds((_, signal) => {
      started.resolve();
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    }),
    limits: { io: 1, cpu: 1 },
    signal: controller.signal,
  });
  await started.promise;
  controller.abort(new InterruptedError("SIGINT"));
  const outcomes = await run;
  assert.equal(outcomes.get("a")?.status, "cancelled");
  assert.ok(outcomes.get("a")?.error instanceof InterruptedError);
  assert.equal(outcomes.get("b")?.status, "cancelled");
});

Deno.test("scheduleJobs() keeps io and cpu pools apart", async () => {
  const lanes: string[] = [];
  const io: JobKind = { pool: "io", run: () => Promise.resolve({}) };
  const cpu: JobKind = { pool: "cpu", run: () => Promise.resolve({}) };
  await scheduleJobs([
    job("d", { kind: "run" }),
    { ...job("x"), kind: "compute" } as unknown as Job,
  ], {
    kinds: new Map<string, JobKind>([["download", io], ["compute", io], ["run", cpu]]),
    limits: { io: 1, cpu: 1 },
    onEvent: (event) => event.type === "job-started" && lanes.push(event.lane),
  });
  assert.deepEqual(lanes.toSorted(), ["cpu-1", "io-1"]);
});

/**
 * A kind that takes jobs ahead (two per slot) and runs them one at a time in its own queue, as
 * the Worker hosts do; `holds` jobs run until their signal aborts or `finish(name)`, the others
 * end at once.
 */
function queueAheadKind(holds: Set<string>) {
  const taken: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const finishers = new Map<string, () => void>();
  const line: (() => void)[] = [];
  let busy = false;
  const next = () => {
    busy = false;
    line.shift()?.();
  };
  const kind: JobKind<Job, CommandResult> = {
    pool: "cpu",
    queueAhead: { perSlot: 2, keyOf: (job) => job.kind === "compute" ? "same" : undefined },
    run: (job, { signal, started }) =>
      new Promise<CommandResult>((resolve, reject) => {
        taken.push(job.name);
        signals.set(job.name, signal);
        const begin = () => {
          busy = true;
          started!();
          if (!holds.has(job.name)) {
            resolve({});
            return next();
          }
          signal.addEventListener("abort", () => {
            reject(signal.reason);
            next();
          }, { once: true });
          finishers.set(job.name, () => {
            resolve({});
            next();
          });
        };
        if (busy) line.push(begin);
        else begin();
      }),
  };
  return { kind, taken, signals, finish: (name: string) => finishers.get(name)!() };
}

Deno.test("scheduleJobs() takes queue-ahead jobs before a slot frees, and times each from its start", async () => {
  const { kind, taken, signals } = queueAheadKind(new Set(["a"]));
  const compute = (name: string, timeoutMs: number) =>
    ({ ...job(name, { timeoutMs }), kind: "compute" }) as unknown as Job;
  const events: RunEvent[] = [];
  const run = scheduleJobs(
    [compute("a", 40), compute("b", 10), compute("c", 10), compute("d", 10)],
    {
      kinds: new Map<string, JobKind>([["download", kind], ["compute", kind], ["run", kind]]),
      limits: { io: 1, cpu: 1 },
      onEvent: (e) => events.push(e),
    },
  );
  // One slot and two ahead: three taken at once, one started.
  assert.deepEqual(taken, ["a", "b", "c"]);
  assert.deepEqual(events.filter((e) => e.type === "job-started").map((e) => e.job.name), ["a"]);
  const outcomes = await run;
  assert.equal(outcomes.get("a")?.status, "failed");
  assert.equal((outcomes.get("a")?.error as DOMException).name, "TimeoutError");
  // b and c waited longer than their 10 ms timeouts behind a, but their clocks ran from their start.
  for (const name of ["b", "c", "d"]) assert.equal(outcomes.get(name)?.status, "ok", name);
  assert.equal(signals.get("b")?.aborted, false);
  const started = events.filter((e) => e.type === "job-started");
  assert.deepEqual(started.map((e) => [e.job.name, e.lane]), [["a", "cpu-1"], ["b", "cpu-1"], [
    "c",
    "cpu-1",
  ], ["d", "cpu-1"]]);
  assert.ok(outcomes.get("b")!.startMs! >= outcomes.get("a")!.startMs! + 40, "b began after a");
});

Deno.test("scheduleJobs() holds other jobs back while queue-ahead jobs wait to start", async () => {
  const { kind: ahead, finish } = queueAheadKind(new Set(["x1"]));
  const order: string[] = [];
  const plain: JobKind<Job, CommandResult> = {
    pool: "cpu",
    run: (job) => {
      order.push(job.name);
      return Promise.resolve({ exitCode: 0 });
    },
  };
  const events: RunEvent[] = [];
  const run = scheduleJobs([
    { ...job("x1"), kind: "compute" } as unknown as Job,
    { ...job("x2"), kind: "compute" } as unknown as Job,
    job("r"),
  ], {
    kinds: new Map<string, JobKind>([["download", plain], ["compute", ahead], ["run", plain]]),
    limits: { io: 1, cpu: 2 },
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(order, [], "a slot is free, but x2 waits to start");
  finish("x1");
  await run;
  // x2 waited in the kind's queue (it runs one at a time) while a slot stood free: r took it
  // only once x2 had started.
  const names = events.filter((e) => e.type === "job-started").map((e) => e.job.name);
  assert.deepEqual(names, ["x1", "x2", "r"]);
});

Deno.test("scheduleJobs() gives a queue-ahead job a free slot while another kind's job holds one", async () => {
  const { kind: ahead } = queueAheadKind(new Set());
  const finishers: (() => void)[] = [];
  const held: JobKind<Job, CommandResult> = {
    pool: "cpu",
    run: () => new Promise((resolve) => finishers.push(() => resolve({ exitCode: 0 }))),
  };
  const events: RunEvent[] = [];
  const run = scheduleJobs([
    job("r"),
    { ...job("c1"), kind: "compute" } as unknown as Job,
    { ...job("c2"), kind: "compute", needs: ["c1"] } as unknown as Job,
  ], {
    kinds: new Map<string, JobKind>([["download", held], ["compute", ahead], ["run", held]]),
    limits: { io: 1, cpu: 2 },
    onEvent: (e) => {
      events.push(e);
      // The command still runs when both compute jobs are done.
      if (e.type === "job-finished" && e.job.name === "c2") finishers.shift()!();
    },
  });
  const outcomes = await run;
  assert.deepEqual([...outcomes.values()].map((o) => o.status), ["ok", "ok", "ok"]);
  const started = events.filter((e) => e.type === "job-started");
  assert.deepEqual(started.map((e) => [e.job.name, e.lane]), [
    ["r", "cpu-1"],
    ["c1", "cpu-2"],
    ["c2", "cpu-2"],
  ]);
});

Deno.test("scheduleJobs() runs queue-ahead jobs of different keys side by side, within the pool's limit", async () => {
  // Each job its own key (as separate compute entries in a job file are): the first goes ahead
  // and starts when its kind says (a Worker host, once its threads are up); then the others take
  // the free slots, and none waits for another while a slot is free.
  const starters = new Map<string, () => void>();
  const finishers = new Map<string, () => void>();
  const kind: JobKind<Job, CommandResult> = {
    pool: "cpu",
    queueAhead: { perSlot: 2, keyOf: (job) => job.name },
    run: (job, { started }) =>
      new Promise<CommandResult>((resolve) => {
        starters.set(job.name, started!);
        finishers.set(job.name, () => resolve({}));
      }),
  };
  const events: RunEvent[] = [];
  const startedNames = () =>
    events.filter((e) => e.type === "job-started").map((e) => (e as { job: Job }).job.name);
  const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));
  const run = scheduleJobs(["a", "b", "c"].map((name) => job(name)), {
    kinds: new Map<string, JobKind>([["download", kind], ["compute", kind], ["run", kind]]),
    limits: { io: 1, cpu: 2 },
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual([...starters.keys()], ["a"], "b waits while a, held ahead, has not started");
  starters.get("a")!();
  await nextTurn();
  assert.deepEqual(startedNames(), ["a", "b"], "two slots, two jobs at once");
  finishers.get("a")!();
  await nextTurn();
  assert.deepEqual(startedNames(), ["a", "b", "c"], "c takes the slot a gave back");
  finishers.get("b")!();
  finishers.get("c")!();
  const outcomes = await run;
  assert.deepEqual([...outcomes.values()].map((o) => o.status), ["ok", "ok", "ok"]);
});

Deno.test("scheduleJobs() tells each kind of its jobs that need nothing, once, before any runs", async () => {
  const told: string[][] = [];
  const ran: string[] = [];
  const kind: JobKind<Job, CommandResult> = {
    pool: "cpu",
    prepare: (ready) => void told.push(ready.map((job) => `${job.name} (after ${ran.length})`)),
    run: (job) => {
      ran.push(job.name);
      return Promise.resolve({ exitCode: 0 });
    },
  };
  const registry = new Map<string, JobKind>([["download", kind], ["compute", kind], ["run", kind]]);
  await scheduleJobs([job("a"), job("b", { needs: ["a"] }), job("c")], {
    kinds: registry,
    limits: { io: 1, cpu: 1 },
  });
  assert.deepEqual(told, [["a (after 0)", "c (after 0)"]]);
  assert.deepEqual(ran.toSorted(), ["a", "b", "c"]);

  // A run cancelled before it began prepares nothing.
  told.length = 0;
  await scheduleJobs([job("a")], {
    kinds: registry,
    limits: { io: 1, cpu: 1 },
    signal: AbortSignal.abort(new InterruptedError("SIGINT")),
  });
  assert.deepEqual(told, []);
});
