/**
 * A validated job file to the plan the scheduler runs: defaults applied, fan-outs unrolled
 * (`urls`, `urls_from`, `repeat`), needs resolved to expanded names, every path made absolute
 * and every write target proved to stay inside the output folder.
 *
 * @module
 */
import { dirname, join, resolve } from "../util/posix_path.ts";
import { InvalidJobFileError, JobFileError } from "./errors.ts";
import type { Job, JobCacheSpec, Plan } from "./job.ts";
import type { ExpandContext, FanOutMember, JobEntry, Kinds } from "../kind_definition.ts";
import { cleanRelativePath, isFolder, isInside, notAFolder, sealedRoot } from "../util/paths.ts";
import { fillReportPath, hasPlaceholders } from "../report/history.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./document.ts";
import { usesVariables } from "./interpolate.ts";
import { UsageError } from "../errors.ts";
import type { JobFile } from "./file_schema.ts";
import { readEnv } from "../util/env.ts";
import { checkTargets, FOLDER, moduleOfJobs, takenBy } from "./targets.ts";
import { controlCharacterIn, quoted } from "./fields.ts";

/** Command-line settings that win over the job file's (paths resolve against `cwd`). */
export interface PlanOverrides {
  output?: string | undefined;
  report?: string | undefined;
  io?: number | undefined;
  cpu?: number | undefined;
  perHost?: number | undefined;
  /** Bytes a second for all downloads together (`--limit-rate`). */
  bandwidth?: number | undefined;
}

/** Options for {@linkcode expandJobFile}. */
export interface ExpandOptions {
  /** The job kinds the file was validated with. */
  kinds: Kinds;
  /** The folder the job file's relative paths resolve against. */
  baseDir: string;
  /** The folder command-line paths resolve against. @default Deno.cwd() */
  cwd?: string;
  overrides?: PlanOverrides;
  /** What `cpu: auto` means. @default navigator.hardwareConcurrency */
  cores?: number;
  /** When the run starts: fills `{date}` and `{time}` in the report path. @default new Date() */
  startedAt?: Date;
  /** The job file's absolute path, when it was read from one (not stdin, not built in). */
  jobFilePath?: string;
  /** Reads an environment variable (`DENO_CERT`). @default Deno.env.get */
  env?: (name: string) => string | undefined;
}

/** The default back-off base before a retry, in ms. */
export const DEFAULT_BACKOFF_MS = 500;
/**
 * Expands a validated job file into a {@linkcode Plan}.
 *
 * @throws {InvalidJobFileError} when a URL list is missing, a target escapes the output folder,
 * two jobs write one file, or a module does not exist
 */
export async function expandJobFile(
  file: JobFile,
  doc: ParsedDocument,
  options: ExpandOptions,
): Promise<Plan> {
  const {
    baseDir,
    cwd = Deno.cwd(),
    overrides = {},
    cores = navigator.hardwareConcurrency,
    startedAt = new Date(),
  } = options;
  const errors: JobFileError[] = [];
  const fail = (path: PathSegment[], detail: string, hint?: string) =>
    errors.push(
      new JobFileError(detail, {
        file: doc.file,
        position: doc.locate(path),
        field: formatPath(path),
        hint,
      }),
    );

  for (const [flag, path] of [["--output", overrides.output], ["--report", overrides.report]]) {
    if (path === "") throw new UsageError(`${flag} needs a path: got an empty one`);
    const wrong = path === undefined ? undefined : controlCharacterIn(path);
    if (wrong) throw new UsageError(`${flag} ${wrong}: got ${quoted(path!)}`);
  }
  const output = overrides.output ? resolve(cwd, overrides.output) : resolve(baseDir, file.output);
  const reportAsGiven = overrides.report
    ? resolve(cwd, overrides.report)
    : file.report
    ? resolve(baseDir, file.report)
    : join(output, "report.json");
  const reportPattern = hasPlaceholders(reportAsGiven) ? reportAsGiven : undefined;
  const report = fillReportPath(reportAsGiven, startedAt, (path) => {
    try {
      Deno.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  });
  // Deno refuses writes under /dev, /proc and /sys to all but --allow-all (the report given
  // alone: by default it sits in the output).
  const sealed = [
    { key: "output", path: output, flag: overrides.output && "--output" },
    ...(overrides.report || file.report
      ? [{ key: "report", path: report, flag: overrides.report && "--report" }]
      : []),
  ];
  for (const { key, path, flag } of sealed) {
    const root = sealedRoot(path);
    if (root === undefined) continue;
    const why = `${path} is under ${root}, where Deno lets a process write only with ` +
      `--allow-all, which a run's jobs never get`;
    const hint = "choose a folder outside /dev, /proc and /sys: any other tmpfs serves the same";
    if (flag) throw new UsageError(`${flag}: ${why}; ${hint}`);
    fail([key], `must be writable by the run: ${why}`, hint);
  }
  // A file where the output folder (or the report's) would be: nothing could be written.
  const folders = [
    { key: "output", folder: output, flag: overrides.output && "--output" },
    ...(overrides.report || file.report
      ? [{ key: "report", folder: dirname(report), flag: overrides.report && "--report" }]
      : []),
  ];
  for (const { key, folder, flag } of folders) {
    const blocker = notAFolder(folder);
    if (blocker === undefined) continue;
    const why = `${blocker} is a file, not a folder`;
    if (flag) throw new UsageError(`${flag}: ${why}`);
    fail([key], `cannot be made: ${why}`);
  }
  const concurrency = {
    io: overrides.io ?? file.concurrency.io,
    cpu: overrides.cpu ?? (file.concurrency.cpu === "auto" ? cores : file.concurrency.cpu),
    perHost: overrides.perHost ?? file.concurrency.per_host,
    ...definedOnly({
      bandwidth: overrides.bandwidth ?? file.concurrency.bandwidth,
      perHostBandwidth: file.concurrency.per_host_bandwidth,
      perHostIntervalMs: file.concurrency.per_host_interval,
    }),
  };

  const { kinds } = options;
  const jobs: Job[] = [];
  const sources = options.jobFilePath === undefined ? [] : [options.jobFilePath];
  const members = new Map<string, string[]>();
  const byKind = new Map<string, Job[]>();
  for (const [index, entry] of file.jobs.entries()) {
    const kind = kinds.find((each) => entry[each.name] !== undefined)!;
    const path: PathSegment[] = ["jobs", index];
    const context: ExpandContext = {
      common: {
        group: entry.name,
        needs: [],
        retries: entry.retries ?? file.defaults.retries ?? kind.defaultRetries,
        // 0 is no limit, as for idle_timeout (and wget, curl): a job's 0 lifts the default's.
        timeoutMs: (entry.timeout ?? file.defaults.timeout) || undefined,
        backoffMs: entry.backoff ?? file.defaults.backoff ?? DEFAULT_BACKOFF_MS,
        source: doc.locate(path),
      },
      path,
      baseDir,
      output,
      defaults: file.defaults[kind.name],
      fail,
      read: (source) => {
        sources.push(source);
      },
      fromEnvironment: (at) => usesVariables(valueAt(doc.value, at)),
      fanOut: () => fanOut(entry),
      cacheFor: cacheSpecOf(entry, { path, baseDir, output, fail }),
    };
    const expanded = await kind.expand(entry, context);
    members.set(entry.name, expanded.map((job) => job.name));
    // One at a time: a spread of a million jobs (a long `urls_from`) overflows the stack.
    const ofKind = byKind.get(kind.name) ?? [];
    byKind.set(kind.name, ofKind);
    for (const job of expanded) {
      jobs.push(job);
      ofKind.push(job);
    }
  }

  // Needs name job-file entries; a fan-out entry stands for all its members. The members of
  // one entry share its list, and an entry without needs the empty one.
  const needsOf = new Map(file.jobs.map((entry) => [
    entry.name,
    entry.needs.length === 0 ? NO_NEEDS : entry.needs.flatMap((need) => members.get(need) ?? []),
  ]));
  for (const job of jobs) job.needs = needsOf.get(job.group)!;

  const entryIndex = new Map(file.jobs.map((entry, index) => [entry.name, index]));
  for (const kind of kinds) {
    kind.checkPlan?.(byKind.get(kind.name) ?? [], {
      output,
      entryPath: (job) => ["jobs", entryIndex.get(job.group)!],
      fail,
    });
  }

  const tls = await readTls(file, { baseDir, fail, env: options.env ?? readEnv });
  for (const path of tls?.files ?? []) sources.push(path);
  checkTargets(jobs, kinds, {
    output,
    report,
    jobFile: options.jobFilePath,
    sources,
    entryPath: (job) => ["jobs", entryIndex.get(job.group)!],
    has: (path) => valueAt(doc.value, path) !== undefined,
    fail,
  });
  // The report would be written over what the run reads, or over its lock and state.
  const taken = takenBy(report, { output, jobFile: options.jobFilePath, sources }) ??
    moduleOfJobs(report, jobs, kinds) ?? (isFolder(report) ? FOLDER : undefined);
  if (taken !== undefined) {
    if (overrides.report) throw new UsageError(`--report: ${report} ${taken}`);
    fail(["report"], `${taken}: ${report}`, "choose another path");
  }

  if (errors.length > 0) throw new InvalidJobFileError(doc.file, errors);
  return {
    file: doc.file,
    output,
    report,
    reportPattern,
    concurrency,
    jobs,
    sources,
    permissions: { net: file.permissions.net },
    ...(tls ? { tls: { caCerts: tls.caCerts } } : {}),
  };
}

/** The keys of `values` whose value is defined. */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** The needs of a job that has none (most): one list for all, never added to. */
const NO_NEEDS: string[] = [];

const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";

/**
 * The certificate authorities a run trusts besides the system's: the PEM files of `tls.ca`
 * (each must hold a certificate) and the one `DENO_CERT` names, read now, so the run itself
 * needs no right to read them.
 */
async function readTls(
  file: JobFile,
  context: { baseDir: string; fail: (path: PathSegment[], detail: string) => void; env: Env },
): Promise<{ caCerts: string[]; files: string[] } | undefined> {
  const named: { path: string; at: PathSegment[] | undefined }[] = (file.tls?.ca ?? []).map((
    path,
    i,
  ) => ({ path: resolve(context.baseDir, path), at: ["tls", "ca", i] }));
  const denoCert = context.env("DENO_CERT");
  if (denoCert) named.push({ path: resolve(denoCert), at: undefined });
  if (named.length === 0) return undefined;
  const caCerts: string[] = [];
  const files: string[] = [];
  for (const { path, at } of named) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      const why = `cannot read the certificate file ${path}: ${(error as Error).message}`;
      if (at) context.fail(at, why);
      else throw new UsageError(`DENO_CERT: ${why}`);
      continue;
    }
    if (!text.includes(PEM_CERTIFICATE)) {
      const why = `${path} holds no PEM certificate (${PEM_CERTIFICATE})`;
      if (at) context.fail(at, why);
      else throw new UsageError(`DENO_CERT: ${why}`);
      continue;
    }
    caCerts.push(text);
    files.push(path);
  }
  return { caCerts, files };
}

/** Reads an environment variable. */
type Env = (name: string) => string | undefined;

/**
 * A job's `inputs` and `outputs`, made absolute and checked: inputs inside the job file's folder
 * or the output, outputs inside the output. Returns the spec of fan-out member `n` (with `{n}`
 * filled in), or undefined for a job that declares neither. A compute job's `to` is an output.
 */
function cacheSpecOf(
  spec: JobEntry,
  context: Pick<ExpandContext, "path" | "baseDir" | "output" | "fail">,
): (n: number, to?: string) => JobCacheSpec | undefined {
  const { path, baseDir, output, fail } = context;
  const inputs: string[] = [];
  for (const [i, input] of (spec.inputs ?? []).entries()) {
    const absolute = resolve(baseDir, input);
    if (!isInside(baseDir, absolute) && !isInside(output, absolute)) {
      fail(
        [...path, "inputs", i],
        `must be inside the job file's folder or the output: got ${absolute}`,
      );
    } else inputs.push(absolute);
  }
  const outputs: string[] = [];
  for (const [i, item] of (spec.outputs ?? []).entries()) {
    try {
      const clean = cleanRelativePath(item);
      if (isFanOut(spec) && !clean.includes("{n}")) {
        throw new RangeError("needs {n} with repeat or matrix, or every job claims one file");
      }
      outputs.push(clean);
    } catch (error) {
      fail([...path, "outputs", i], (error as Error).message);
    }
  }
  if (spec.inputs === undefined && spec.outputs === undefined) return () => undefined;
  return (n, to) => ({
    inputs,
    outputs: [
      ...outputs.map((item) => join(output, item.replaceAll("{n}", String(n)))),
      ...(to === undefined ? [] : [to]),
    ],
  });
}

function isFanOut(spec: JobEntry): boolean {
  return spec.repeat !== undefined || spec.matrix !== undefined;
}

/**
 * One entry per job of a fan-out: `name` alone, or `name/1` .. `name/N` for `repeat: N` or a
 * matrix of N argument lists (`extra`, appended to the job's arguments).
 */
function fanOut(spec: JobEntry): FanOutMember[] {
  if (spec.matrix !== undefined) {
    return spec.matrix.map((extra, i) => ({ name: `${spec.name}/${i + 1}`, n: i + 1, extra }));
  }
  if (spec.repeat === undefined) return [{ name: spec.name, n: 1, extra: [] }];
  return Array.from({ length: spec.repeat }, (_, i) => ({
    name: `${spec.name}/${i + 1}`,
    n: i + 1,
    extra: [],
  }));
}

/** The value at `path` in a parsed document's plain value, if there is one. */
function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) {
      return undefined;
    }
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}
