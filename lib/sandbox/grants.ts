/**
 * The least privileges of a whole run, derived from its plan: what taskpool's own process needs
 * to run these jobs and nothing else. `taskpool run` re-executes itself with exactly these
 * (see `relaunch.ts`); `taskpool plan` shows them.
 *
 * - read: the files the plan was built from, the output and report folders, compute modules'
 *   folders and declared inputs, the programs of command jobs (to find them on PATH), and
 *   (added by lib/cli/grants_for.ts) taskpool's own folder, whose modules the run loads
 * - write: the output folder, the report's folder, timeline files' folders
 * - net: the hosts of the download URLs, and the job file's `permissions.net`
 * - run: Deno itself (the Worker and process hosts), `setsid` and `kill` (process groups), the
 *   programs of command jobs
 * - env: the variables the job file interpolates, and the few taskpool reads itself
 * - sys: the host name, which the output folder's lock records
 *
 * Compute jobs' own rights (`permissions:` of a job) are added too: their host processes get
 * them as their own flags, but the sequential and async modes run compute on taskpool's main
 * thread.
 *
 * @module
 */
import { PROXY_VARIABLES } from "../http/proxy_variables.ts";
import { dirname, resolve, sep } from "../util/posix_path.ts";
import type { Plan } from "../jobfile/job.ts";
import { globRoot } from "../util/glob.ts";
import { withRealPaths } from "../util/paths.ts";
import { hasPlaceholders } from "../report/history.ts";
import { type GrantSet, kindOf, type Kinds } from "../kind_definition.ts";
import type { Grants } from "./grant_flags.ts";

/**
 * The variables taskpool reads itself: colours, PATH lookups, the relaunch marker and the early Worker host (lib/pools/worker/early_host.ts), the two
 * debug switches the `yaml` package looks at while parsing, and the proxy variables (a proxied
 * URL is fetched with Deno's fetch, which reads them and NO_PROXY itself).
 */
export const OWN_ENV = [
  "NO_COLOR",
  "PATH",
  "TASKPOOL_SANDBOXED",
  "TASKPOOL_EARLY_HOST",
  "LOG_TOKENS",
  "LOG_STREAM",
  ...Object.values(PROXY_VARIABLES).flat(),
];

/** The longest `--allow-net` list, in characters. */
export const MOST_HOST_LIST_CHARS = 64 * 1024;

/** What the plan alone does not say. */
export interface GrantsOptions {
  /** Environment variables read while building the plan (`${VAR}`, env files). */
  envNames?: Iterable<string>;
  /** Other files read while building it (`--env-file`). */
  reads?: string[];
  /** Other files the run writes (`--trace`, `--html`). */
  writes?: (string | undefined)[];
  /** The Deno executable. @default Deno.execPath() */
  execPath?: string;
  /** Finds a command's program, or undefined where it is not found. @default as the kind does */
  findProgram?: (program: string, cwd: string) => string | undefined;
  /** The program that starts process groups, if any (null: none). @default the kind finds it */
  setsid?: string | null;
  /** The program that signals them when taskpool exits at once, if any. @default as setsid */
  kill?: string | null;
  /** The shell that signals them otherwise, if any. @default as setsid */
  shell?: string | null;
}

/**
 * The grants of a run of `plan`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runGrants } from "./grants.ts";
 * import { KINDS } from "../../tasks/mod.ts";
 * import type { DownloadJob } from "../../tasks/download/job.ts";
 * const job: DownloadJob = {
 *   kind: "download", name: "a", group: "a", needs: [], retries: 0, timeoutMs: undefined,
 *   backoffMs: 0, source: undefined, url: "https://example.com/a.png", path: "/out/a.png",
 *   relativePath: "a.png", sha256: undefined, sha512: undefined, headers: {}, secretHeaders: [],
 *   maxBytes: 1e6, idleTimeoutMs: 0, maxWaitMs: 0, recordSha256: false,
 * };
 * const grants = runGrants(KINDS, {
 *   file: "jobs.yaml", output: "/out", report: "/out/report.json",
 *   concurrency: { io: 4, cpu: 2, perHost: 4 }, sources: ["/jobs/jobs.yaml"],
 *   permissions: { net: false }, jobs: [job],
 * }, { findProgram: () => undefined, setsid: null, kill: null, shell: null });
 * assert(JSON.stringify(grants.net) === '["example.com"]');
 * assert(grants.write.join() === "/out" && grants.run.length === 0);
 * ```
 */
export function runGrants(kinds: Kinds, plan: Plan, options: GrantsOptions = {}): Grants {
  const { findProgram, setsid, kill, shell } = options;
  const grants: GrantSet = {
    read: new Set([...plan.sources, ...(options.reads ?? [])]),
    write: new Set([plan.output, reportFolder(plan)]),
    hosts: new Set(),
    run: new Set(),
    env: new Set([...OWN_ENV, ...(options.envNames ?? [])]),
    anyHost: plan.permissions.net === true,
    anyVariable: false,
  };
  const { read, write, hosts, run } = grants;
  for (const path of options.writes ?? []) if (path !== undefined) write.add(dirname(path));
  const context = {
    execPath: options.execPath ?? Deno.execPath(),
    ...(findProgram ? { findProgram } : {}),
    helpers: {
      ...(setsid !== undefined ? { setsid } : {}),
      ...(kill !== undefined ? { kill } : {}),
      ...(shell !== undefined ? { shell } : {}),
    },
  };
  for (const job of plan.jobs) {
    for (const input of job.cache?.inputs ?? []) read.add(globRoot(input));
    kindOf(kinds, job.kind).grant(job, grants, context);
  }
  // Finding a program on PATH looks at it.
  for (const program of run) read.add(program);
  for (const folder of write) read.add(folder);
  if (Array.isArray(plan.permissions.net)) {
    for (const host of plan.permissions.net) hosts.add(host);
  }
  // One argument may not exceed 128 KiB on Linux: a list of hosts that long (thousands of them,
  // from a URL list) becomes access to any host rather than a run that cannot start.
  const anyHost = grants.anyHost || [...hosts].join(",").length > MOST_HOST_LIST_CHARS;
  return {
    read: withoutNested(withRealPaths(read)),
    write: withoutNested(withRealPaths(write)),
    net: anyHost ? true : [...hosts].sort(),
    run: [...run].sort(),
    env: grants.anyVariable ? true : [...grants.env].sort(),
    sys: ["hostname"],
  };
}

/**
 * The report's folder; for a report path with `{date}` or `{time}` in a folder name, the
 * folder above the first such name (`--keep-reports` removes emptied folders there).
 */
function reportFolder(plan: Plan): string {
  const pattern = plan.reportPattern;
  if (pattern === undefined) return dirname(plan.report);
  const parts = pattern.split(sep);
  const first = parts.findIndex(hasPlaceholders);
  return parts.slice(0, first).join(sep) || sep;
}

/** The paths, sorted, without those inside another of them. */
function withoutNested(paths: Iterable<string>): string[] {
  const sorted = [...new Set([...paths].map((path) => resolve(path)))].sort();
  return sorted.filter((path) =>
    !sorted.some((other) =>
      other !== path && path.startsWith(other.endsWith(sep) ? other : other + sep)
    )
  );
}
