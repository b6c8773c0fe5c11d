/**
 * Everything a job kind brings, stage by stage: its part of the job file (a key of a job entry,
 * entry fields of its own, defaults), its checks, its expansion into jobs, the rights its jobs
 * need, how `taskpool plan` shows a job, its fields in the report, and its run-time
 * {@linkcode JobKind}. A kind is one folder under `tasks/` exporting one `KindDefinition`, and one
 * line in `tasks/registry.ts`; `lib/` iterates the list it is given and never names a kind.
 *
 * @module
 */
import type { z } from "zod";
import type { HttpTransport } from "./http/transport.ts";
import type { Job, JobCacheSpec } from "./jobfile/job.ts";
import type { PathSegment } from "./jobfile/document.ts";
import type { SchemaFields } from "./jobfile/fields.ts";
import type { ProcessPool } from "./pools/process/process_pool.ts";
import type { WorkerPool } from "./pools/worker/worker_pool.ts";
import type { ReportKindFields } from "./report/types.ts";
import type { JobOutcome } from "./scheduler/events.ts";
import type { JobKind, PoolName, TaskResult } from "./scheduler/kind.ts";

/** Records a problem at `path` of the job file, with an optional hint. */
export type Fail = (path: PathSegment[], detail: string, hint?: string) => void;

/**
 * One entry of `jobs:` once validated: the keys every entry may have, typed, and each kind's own
 * part under its key, as that kind's `spec` produced it.
 */
export interface JobEntry {
  name: string;
  needs: string[];
  retries?: number | undefined;
  timeout?: number | undefined;
  backoff?: number | undefined;
  repeat?: number | undefined;
  matrix?: unknown[][] | undefined;
  inputs?: string[] | undefined;
  outputs?: string[] | undefined;
  readonly [key: string]: unknown;
}

/** One job of a `repeat` or `matrix` fan-out (or the entry's only job). */
export interface FanOutMember {
  /** `name`, or `name/1` .. `name/N`. */
  name: string;
  /** 1-based. */
  n: number;
  /** The matrix row, appended to the job's arguments; empty otherwise. */
  extra: unknown[];
}

/** What a kind's expansion gets besides its entry. */
export interface ExpandContext {
  /** What every job of the entry carries (all but `kind` and `name`). */
  common: Omit<Job, "kind" | "name">;
  /** Where the entry stands: `["jobs", index]`. */
  path: PathSegment[];
  /** The folder the job file's relative paths resolve against. */
  baseDir: string;
  /** The absolute output folder. */
  output: string;
  /** `defaults.<kind>` of the job file, as the kind's `defaults` schema produced it. */
  defaults: unknown;
  fail: Fail;
  /** Records a file read to build the plan (a URL list): the plan's sources name it. */
  read(path: string): void;
  /**
   * Whether the job file's value at `path` came from the environment (`${VAR}`): such a value
   * may be a secret, and must be shown as one.
   */
  fromEnvironment(path: PathSegment[]): boolean;
  /** The entry's jobs by `repeat` or `matrix` (one, named after the entry, when neither). */
  fanOut(): FanOutMember[];
  /**
   * The entry's `inputs` and `outputs` for fan-out member `n` (absolute, `{n}` filled in),
   * with `to` as one more output; undefined for an entry that declares neither.
   */
  cacheFor(n: number, to?: string): JobCacheSpec | undefined;
}

/** What a kind's checks across the whole plan get. */
export interface PlanCheckContext {
  /** The absolute output folder. */
  output: string;
  /** Where the entry that `job` came from stands: `["jobs", index]`. */
  entryPath(job: Job): PathSegment[];
  fail: Fail;
}

/** The rights a run needs, as they are gathered: each kind adds its jobs'. */
export interface GrantSet {
  read: Set<string>;
  write: Set<string>;
  /** Hosts (`host` or `host:port`) to reach. */
  hosts: Set<string>;
  /** Programs to start. */
  run: Set<string>;
  /** Environment variables to read. */
  env: Set<string>;
  /** Any host at all. */
  anyHost: boolean;
  /** Every environment variable. */
  anyVariable: boolean;
}

/** What a kind may need to work out its jobs' rights. */
export interface GrantContext {
  /** The Deno executable. */
  execPath: string;
  /**
   * Finds a program as a job in `cwd` would, or undefined where it is not found.
   * @default the kind's own search
   */
  findProgram?(program: string, cwd: string): string | undefined;
  /**
   * Helper programs a kind may start, found by the caller (null: there is none) or, when
   * undefined, by the kind itself: `setsid`, `kill`, `sh`.
   */
  helpers: { setsid?: string | null; kill?: string | null; shell?: string | null };
}

/** The pools compute jobs run on. */
export interface ComputePools {
  /** The Worker pool. */
  workers: WorkerPool;
  /** The host-process pool. */
  processes: ProcessPool;
}

/** What a run gives each kind to build its run-time {@linkcode JobKind}. */
export interface RunResources {
  /** The absolute output folder. */
  output: string;
  /**
   * The compute pools, started at the first call: a run with no compute job loads neither (nor
   * the Node compatibility layer their messages use).
   */
  computePools(): Promise<ComputePools>;
  /** The HTTP transport every download shares, made at the first call (its modules loaded). */
  httpTransport(): Promise<HttpTransport>;
  /** Downloads in flight to one host. */
  perHost: number;
  /** Bytes a second all downloads together may receive. @default no limit */
  bandwidth?: number | undefined;
  /** Bytes a second the downloads from one host may receive. @default no limit */
  perHostBandwidth?: number | undefined;
  /** The least time between the starts of two requests to one host, in ms. @default 0 */
  perHostIntervalMs?: number | undefined;
  /** Do again what is current (`--force`). */
  force: boolean;
  /** Time between SIGTERM and SIGKILL for process groups, when the run sets one. */
  killGraceMs?: number | undefined;
  /** Where CPU work runs, as the mode says: the main thread, one pool, or each job's own. */
  cpuPlace: "main" | "worker" | "process" | "job";
  /** One job at a time overall (the sequential mode): every kind takes the cpu pool. */
  oneAtATime: boolean;
  /**
   * Other processes write into the output while this one runs (a distributed run's workers
   * share it): what it held at the start says nothing of what it holds later. @default false
   */
  sharedOutput?: boolean;
  /**
   * What an absolute path already is to this run, when no job may write it under a name of its
   * server's: `"is the run's report"`, `"is the job file"`, `"is the file of the job x"`
   * (lib/jobfile/targets.ts). @default nothing (a distributed run's worker holds no plan)
   */
  fileTaken?(path: string): Promise<string | undefined>;
}

/**
 * Builds one part of the job file's schema from the zod and shared fields it is handed: a kind
 * loads zod only when a job file is read.
 */
export type SchemaPart<T> = (fields: SchemaFields) => T;

/** A job kind, whole. See the module doc. */
export interface KindDefinition<J extends Job = Job, R extends TaskResult = TaskResult> {
  /** Its name: the key that makes a job entry this kind (`download:`), and `job.kind`. */
  readonly name: string;
  /** The schema of the value under its key. */
  readonly spec: SchemaPart<z.ZodType>;
  /** Keys of a job entry that only this kind reads (a command's `cwd:`), with their schemas. */
  readonly entryFields?: SchemaPart<Readonly<Record<string, z.ZodType>>>;
  /** The schema of `defaults.<name>`: settings every job of the kind inherits. */
  readonly defaults?: SchemaPart<z.ZodType>;
  /** The pool its jobs run on, unless the mode says otherwise. */
  readonly pool: PoolName;
  /** Extra attempts when neither the job nor `defaults` says. */
  readonly defaultRetries: number;
  /** Its jobs move files: progress counts them as files, with bytes. @default false */
  readonly transfers?: boolean;
  /**
   * Whether `repeat`/`matrix` (`fanOut`) and `inputs`/`outputs` (`incremental`) apply; when not,
   * the hint that says what to do instead. @default both apply
   */
  readonly entryRules?: { fanOut?: string; incremental?: string };
  /** Adjusts its part of the JSON Schema (a `oneOf` that zod cannot state). */
  jsonSchema?(schema: Record<string, unknown>): void;
  /** Rules across the fields of its value, which may be invalid: read it defensively. */
  check?(value: Record<string, unknown>, path: PathSegment[], fail: Fail): void;
  /** Its entry's jobs: defaults applied, fan-outs unrolled, paths absolute. */
  expand(entry: JobEntry, context: ExpandContext): J[] | Promise<J[]>;
  /** Rules across all of its jobs in the plan (a download through a symlink out of the output). */
  checkPlan?(jobs: readonly J[], context: PlanCheckContext): void;
  /**
   * The file `job` writes under a name the plan fixes (absolute), if any: no two jobs of a plan
   * may write one, nor write taskpool's own (lib/jobfile/targets.ts).
   */
  writes?(job: J): string | undefined;
  /**
   * The file `job` runs by name (a compute job's module), absolute, the same for every job of its
   * entry: no report or timeline may replace it.
   */
  reads?(job: J): string | undefined;
  /** Adds what a run of `job` needs to `grants`. */
  grant(job: J, grants: GrantSet, context: GrantContext): void;
  /** One line about `job` for `taskpool plan`, secrets hidden. */
  describe(job: J): string;
  /** `job` as `taskpool plan --json` shows it, secrets hidden. @default the job */
  shown?(job: J): unknown;
  /** Its fields of the report's entry for `job`. */
  report(job: J, outcome: JobOutcome, context: { output: string }): ReportKindFields;
  /** Files whose content is part of `job`'s definition (a module and its imports). */
  definitionFiles?(job: J): Promise<string[]>;
  /** What `--mode auto` amounts to for these jobs, if this kind has a say. */
  prefers?(jobs: readonly J[]): "workers" | "processes" | undefined;
  /** Its run-time kind, bound to this run's resources. */
  create(resources: RunResources): JobKind<J, R> | Promise<JobKind<J, R>>;
}

/** The kinds a command works with, in the order the job file's schema lists them. */
export type Kinds = readonly KindDefinition[];

/**
 * The kind named `name`.
 *
 * @throws {TypeError} when no kind has that name (a job built by another registry)
 */
export function kindOf(kinds: Kinds, name: string): KindDefinition {
  const kind = kinds.find((each) => each.name === name);
  if (!kind) throw new TypeError(`no job kind is named "${name}"`);
  return kind;
}
