/**
 * `taskpool worker --redis URL`: a worker of distributed runs (see lib/distributed/worker.ts).
 *
 * @module
 */
import { resolve } from "../util/posix_path.ts";
import { UsageError } from "../errors.ts";
import type { Kinds } from "../kind_definition.ts";
import { parseDuration } from "../util/duration.ts";
import { loadEnvFiles } from "../jobfile/env_file.ts";
import { parseCommandArgs, positiveInteger } from "./args.ts";
import type { CliIo } from "./io.ts";
import { ownFileUrl } from "../util/own_files.ts";

/** Help text of `taskpool worker`. */
export const WORKER_HELP = `Usage: taskpool worker --redis URL [options]

Takes jobs of distributed runs (taskpool run FILE --redis URL) from Redis and runs them with the
same kinds and pools as a local run, until SIGTERM or SIGINT: then it takes no new job, lets what
runs finish within --kill-grace, hands the rest back to the queue, and exits 0.

Options:
      --redis URL        redis:// or rediss:// (TLS); also TASKPOOL_REDIS
      --name NAME        this worker's name in reports: NAME@HOST:PID (default w)
  -o, --output DIR       where its files go: the run's output maps onto it (default downloads)
      --dir DIR          its copy of the job file's folder, where compute modules and commands
                         are found by the same relative paths (default the current folder)
      --io N             downloads at once (default 16)
      --cpu N            compute and command jobs at once (default the cores)
      --lease DURATION   how long a job stays this worker's without word from it; a worker
                         that dies loses its jobs to others after this (default 10s)
      --kill-grace DURATION  how long running jobs may finish after SIGTERM (default 5s)
      --env-file FILE    variables for \${VAR} in the jobs; the environment wins; repeatable
`;

/** Runs `taskpool worker`; resolves with 0 once stopped. */
export async function workerCommand(args: string[], io: CliIo, kinds: Kinds): Promise<number> {
  const { values } = parseCommandArgs(args, {
    redis: { type: "string" },
    name: { type: "string" },
    output: { type: "string", short: "o" },
    dir: { type: "string" },
    io: { type: "string" },
    cpu: { type: "string" },
    lease: { type: "string" },
    "kill-grace": { type: "string" },
    "env-file": { type: "string", multiple: true },
  });
  const url = values.redis ?? Deno.env.get("TASKPOOL_REDIS");
  if (url === undefined) {
    throw new UsageError("worker needs --redis URL (or TASKPOOL_REDIS)");
  }
  const name = values.name ?? "w";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new UsageError(`--name must use only letters, digits, '.', '_' and '-': got "${name}"`);
  }
  const duration = (flag: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    try {
      return parseDuration(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
    } catch {
      throw new UsageError(`${flag} must be a duration such as 10s or 500ms: got "${value}"`);
    }
  };
  const leaseMs = duration("--lease", values.lease, 10_000);
  if (leaseMs < 1000) throw new UsageError(`--lease must be at least 1s: got "${values.lease}"`);
  await loadEnvFiles(values["env-file"] ?? []);
  // By a URL a bundler cannot follow: the bundle keeps BullMQ and ioredis in a file of their own.
  const [{ runWorker }, { checkRedisUrl }] = await Promise.all([
    import(ownFileUrl("lib/distributed/worker.ts").href) as Promise<
      typeof import("../distributed/worker.ts")
    >,
    import("../distributed/redis_url.ts"),
  ]);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const { ioWithinOpenFiles } = await import("./open_files.ts");
  const within = ioWithinOpenFiles(positiveInteger("--io", values.io) ?? 16);
  if (within.note !== undefined) io.stderr(`taskpool worker: ${within.note}\n`);
  try {
    await runWorker({
      redis: checkRedisUrl(url),
      name,
      output: resolve(values.output ?? "downloads"),
      dir: resolve(values.dir ?? "."),
      io: within.io,
      cpu: positiveInteger("--cpu", values.cpu) ?? navigator.hardwareConcurrency,
      leaseMs,
      killGraceMs: duration("--kill-grace", values["kill-grace"], 5000),
      kinds,
      signal: stop.signal,
      log: (line) => io.stderr(`${line}\n`),
    });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
  return 0;
}
