/**
 * What a run writes, and where nothing may be written over. The files a plan's jobs write under
 * names the plan fixes (a download's target, a compute job's `to:`, a command's log): no two jobs
 * write one file, and no job writes the run's report, the job file or a list it reads, or into
 * `<output>/.taskpool/` (the lock, the download state, the job cache). The same places are
 * refused to a file a server names, and to `--trace` and `--html`.
 *
 * @module
 */
import type { Job, Plan } from "./job.ts";
import type { PathSegment } from "./document.ts";
import type { Fail, Kinds } from "../kind_definition.ts";
import { join, relative, sep } from "../util/posix_path.ts";
import { isFolder } from "../util/paths.ts";

/** What the rules need of the plan. */
export interface TargetsContext extends TakenPaths {
  /** The absolute path of the run's report. */
  report: string;
  /** Where the entry that `job` came from stands: `["jobs", index]`. */
  entryPath(job: Job): PathSegment[];
  /** Whether the job file's entry at `path` has a value there. */
  has(path: PathSegment[]): boolean;
  fail: Fail;
}

/** The folder in the output where taskpool keeps its lock, state and job cache. */
function ownFolder(output: string): string {
  return join(output, ".taskpool");
}

/**
 * Fails each job whose planned file another job writes too, or that is taskpool's own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTargets } from "./targets.ts";
 * import type { Kinds } from "../kind_definition.ts";
 * const kinds = [{ name: "copy", writes: (job: { path: string }) => job.path }] as unknown as Kinds;
 * const problems: string[] = [];
 * const job = (name: string, path: string) => ({ name, kind: "copy", group: name, path });
 * checkTargets([job("a", "/o/report.json"), job("b", "/o/x"), job("c", "/o/x")] as never, kinds, {
 *   output: "/o",
 *   sources: [],
 *   report: "/o/report.json",
 *   entryPath: () => ["jobs", 0],
 *   has: () => true,
 *   fail: (_path, detail) => problems.push(detail),
 * });
 * assert.deepEqual(problems, [
 *   "writes report.json, where the run writes its report",
 *   "writes x, which b writes too",
 * ]);
 * ```
 */
export function checkTargets(jobs: readonly Job[], kinds: Kinds, context: TargetsContext): void {
  const { output, report, fail } = context;
  const writesOf = new Map(kinds.map((kind) => [kind.name, kind.writes?.bind(kind)]));
  const writers = new Map<string, string>();
  const takenAt = takenIn(context);
  for (const job of jobs) {
    const path = writesOf.get(job.kind)?.(job);
    if (path === undefined) continue;
    const other = writers.get(path);
    const taken = other === undefined && path !== report ? takenAt(path) : undefined;
    if (other === undefined && path !== report && taken === undefined) {
      writers.set(path, job.name);
      continue;
    }
    const entry = [...context.entryPath(job), job.kind];
    const at = context.has([...entry, "to"]) ? [...entry, "to"] : entry;
    const shown = relative(output, path);
    if (path === report) {
      fail(at, `writes ${shown}, where the run writes its report`, "set `to:` or `report:`");
    } else if (taken !== undefined) {
      fail(at, `writes ${shown}, which ${taken}`, "choose another `to:`");
    } else {
      fail(entry, `writes ${shown}, which ${other} writes too`, "set distinct `to:` targets");
    }
  }
}

/** What `path` is to the jobs that run it by name (`"is the module of the job x"`), if anything. */
export function moduleOfJobs(path: string, jobs: readonly Job[], kinds: Kinds): string | undefined {
  const reader = jobsByFile(jobs, kinds, "reads").get(path);
  return reader === undefined ? undefined : `is the module of the job ${reader}`;
}

/**
 * The first job that writes (or runs) each file the plan names, by absolute path. The jobs of one
 * entry run the same file (see `KindDefinition.reads`): one of each is asked.
 */
function jobsByFile(
  jobs: readonly Job[],
  kinds: Kinds,
  member: "writes" | "reads",
): Map<string, string> {
  const fileOf = new Map(kinds.map((kind) => [kind.name, kind[member]?.bind(kind)]));
  const found = new Map<string, string>();
  let group: string | undefined;
  for (const job of jobs) {
    if (member === "reads" && job.group === group) continue;
    group = job.group;
    const path = fileOf.get(job.kind)?.(job);
    if (path !== undefined && !found.has(path)) found.set(path, job.name);
  }
  return found;
}

/** What a plan reads and writes that no file of taskpool's own (a report, a timeline) may be. */
export interface TakenPaths {
  /** The absolute output folder. */
  output: string;
  /** The job file's absolute path, when it was read from one. */
  jobFile?: string | undefined;
  /** The files the plan was built from (the job file, URL lists, checksum files). */
  sources: readonly string[];
}

/**
 * What `path` (absolute) already is to a run (`"is the job file"`), when taskpool may not write
 * a file of its own there: the job file, a file the plan was built from, or a place in the
 * output's `.taskpool/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takenBy } from "./targets.ts";
 * const taken = { output: "/o", jobFile: "/j.yaml", sources: ["/j.yaml", "/urls.txt"] };
 * assert.equal(takenBy("/j.yaml", taken), "is the job file");
 * assert.equal(takenBy("/urls.txt", taken), "is a file the job file reads");
 * assert.match(takenBy("/o/.taskpool/lock", taken)!, /\.taskpool/);
 * assert.equal(takenBy("/o/report.json", taken), undefined);
 * ```
 */
export function takenBy(path: string, taken: TakenPaths): string | undefined {
  return takenIn(taken)(path);
}

/**
 * {@linkcode takenBy} for many paths (absolute and normalised, as a plan's are): what it needs is
 * worked out once, and each path costs a few string comparisons.
 */
export function takenIn(taken: TakenPaths): (path: string) => string | undefined {
  const sources = new Set(taken.sources);
  const folder = ownFolder(taken.output);
  const inFolder = `${folder}${sep}`;
  return (path) => {
    if (path === taken.jobFile) return "is the job file";
    if (sources.has(path)) return "is a file the job file reads";
    if (path === folder || path.startsWith(inFolder)) {
      return "is in the output's .taskpool/ folder, where taskpool keeps the run's lock and state";
    }
    return undefined;
  };
}

/**
 * What an absolute path is to the run of `plan` (`"is the run's report"`), where neither a file of
 * taskpool's own (a timeline) nor a file a server names may go: the report, a file the plan
 * reads, a place in `.taskpool/`, a job's file, or a folder. With `modules`, a compute job's module
 * too (for taskpool's own files: a job may fetch a module another job then runs).
 */
export function takenInRun(
  plan: Plan,
  kinds: Kinds,
  options: { modules?: boolean } = {},
): (path: string) => string | undefined {
  let writers: Map<string, string> | undefined;
  let readers: Map<string, string> | undefined;
  // A job file read from disk is the first of the sources (`plan.file` is as the user named it).
  const jobFile = plan.file === "-" ? undefined : plan.sources[0];
  const takenAt = takenIn({ output: plan.output, jobFile, sources: plan.sources });
  return (path) => {
    if (path === plan.report) return "is the run's report";
    const what = takenAt(path);
    if (what !== undefined) return what;
    const writer = (writers ??= jobsByFile(plan.jobs, kinds, "writes")).get(path);
    if (writer !== undefined) return `is the file of the job ${writer}`;
    if (options.modules) {
      const reader = (readers ??= jobsByFile(plan.jobs, kinds, "reads")).get(path);
      if (reader !== undefined) return `is the module of the job ${reader}`;
    }
    return isFolder(path) ? FOLDER : undefined;
  };
}

/** What {@linkcode takenInRun} says of a folder. */
export const FOLDER = "is a folder, not a file";
