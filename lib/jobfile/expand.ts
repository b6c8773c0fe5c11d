/**
 * A validated job file to the plan the scheduler runs: defaults applied, fan-outs unrolled
 * (`urls`, `urls_from`, `repeat`), needs resolved to expanded names, every path made absolute
 * and every write target proved to stay inside the output folder.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { builtinModuleUrl } from "../../tasks/compute/builtin/mod.ts";
import { InvalidJobFileError, JobFileError } from "./errors.ts";
import type { ComputeJob, DownloadJob, Job, JobCacheSpec, JobCommon, Plan, RunJob } from "./job.ts";
import { cleanRelativePath, isInside, realTarget } from "../util/paths.ts";
import { fillReportPath, hasPlaceholders } from "../report/history.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./parse.ts";
import type { JobFile, JobSpec } from "./schema.ts";

/** Command-line settings that win over the job file's (paths resolve against `cwd`). */
export interface PlanOverrides {
  output?: string | undefined;
  report?: string | undefined;
  io?: number | undefined;
  cpu?: number | undefined;
  perHost?: number | undefined;
}

/** Options for {@linkcode expandJobFile}. */
export interface ExpandOptions {
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
}

/** The default back-off base before a retry, in ms. */
export const DEFAULT_BACKOFF_MS = 500;
/** Default extra attempts: downloads are retried, compute and run jobs are not. */
export const DEFAULT_RETRIES = { download: 2, compute: 0, run: 0 } as const;
/** Download settings when neither the job nor `defaults.download` gives them. */
export const DOWNLOAD_DEFAULTS = {
  maxBytes: 4 * 2 ** 30,
  idleTimeoutMs: 30_000,
  maxWaitMs: 60_000,
} as const;

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

  const output = overrides.output ? resolve(cwd, overrides.output) : resolve(baseDir, file.output);
  const reportAsGiven = overrides.report
    ? resolve(cwd, overrides.report)
    : file.report
    ? resolve(baseDir, file.report)
    : join(output, "report.json");
  const reportPattern = hasPlaceholders(reportAsGiven) ? reportAsGiven : undefined;
  const report = fillReportPath(reportAsGiven, startedAt);
  const concurrency = {
    io: overrides.io ?? file.concurrency.io,
    cpu: overrides.cpu ?? (file.concurrency.cpu === "auto" ? cores : file.concurrency.cpu),
    perHost: overrides.perHost ?? file.concurrency.per_host,
  };

  const jobs: Job[] = [];
  const sources = options.jobFilePath === undefined ? [] : [options.jobFilePath];
  const members = new Map<string, string[]>();
  for (const [index, spec] of file.jobs.entries()) {
    const path: PathSegment[] = ["jobs", index];
    const common: Omit<JobCommon, "name"> = {
      group: spec.name,
      needs: [],
      retries: spec.retries ?? file.defaults.retries ??
        DEFAULT_RETRIES[spec.download ? "download" : spec.compute ? "compute" : "run"],
      timeoutMs: spec.timeout ?? file.defaults.timeout,
      backoffMs: spec.backoff ?? file.defaults.backoff ?? DEFAULT_BACKOFF_MS,
      source: doc.locate(path),
    };
    let expanded: Job[];
    if (spec.download) {
      expanded = await expandDownload(spec, common, {
        path,
        sources,
        baseDir,
        output,
        fail,
        defaults: file.defaults.download,
      });
    } else if (spec.compute) {
      expanded = await expandCompute(spec, common, { path, sources, baseDir, output, fail });
    } else {
      expanded = expandRun(spec, common, { path, sources, baseDir, output, fail });
    }
    members.set(spec.name, expanded.map((job) => job.name));
    jobs.push(...expanded);
  }

  // Needs name job-file entries; a fan-out entry stands for all its members.
  const specByName = new Map(file.jobs.map((spec) => [spec.name, spec]));
  for (const job of jobs) {
    job.needs = specByName.get(job.group)!.needs.flatMap((need) => members.get(need) ?? []);
  }

  // Many downloads share a folder: resolve the real root once and each real folder once.
  const specIndex = new Map(file.jobs.map((spec, index) => [spec.name, index]));
  const realOutput = realTarget(output);
  const folderInside = new Map<string, boolean>();
  const writers = new Map<string, string>();
  for (const job of jobs) {
    if (job.kind !== "download") continue;
    const index = specIndex.get(job.group)!;
    const other = writers.get(job.path);
    if (other !== undefined) {
      fail(
        ["jobs", index, "download"],
        `writes ${job.relativePath}, which ${other} writes too`,
        "set distinct `to:` targets",
      );
    } else {
      writers.set(job.path, job.name);
    }
    const folder = dirname(job.path);
    let inside = folderInside.get(folder);
    if (inside === undefined) {
      inside = isInside(realOutput, realTarget(folder));
      folderInside.set(folder, inside);
    }
    if (!inside) {
      fail(
        ["jobs", index, "download", "to"],
        `would write outside the output folder through a symlink: ${job.relativePath}`,
      );
    }
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
  };
}

interface ExpandContext {
  path: PathSegment[];
  /** Files read to expand the plan: each URL list is added as it is read. */
  sources: string[];
  baseDir: string;
  output: string;
  fail: (path: PathSegment[], detail: string, hint?: string) => void;
}

async function expandDownload(
  spec: JobSpec,
  common: Omit<JobCommon, "name">,
  context: ExpandContext & { defaults: JobFile["defaults"]["download"] },
): Promise<DownloadJob[]> {
  const { path, baseDir, output, fail, defaults } = context;
  const download = spec.download!;
  const settings = {
    sha512: download.sha512,
    headers: mergeHeaders(defaults.headers, download.headers),
    maxBytes: download.max_bytes ?? defaults.max_bytes ?? DOWNLOAD_DEFAULTS.maxBytes,
    idleTimeoutMs: download.idle_timeout ?? defaults.idle_timeout ??
      DOWNLOAD_DEFAULTS.idleTimeoutMs,
    maxWaitMs: download.max_wait ?? defaults.max_wait ?? DOWNLOAD_DEFAULTS.maxWaitMs,
    recordSha256: download.record_sha256 ?? defaults.record_sha256 ?? false,
  };
  const at: PathSegment[] = [...path, "download"];

  let urls: { url: string; at: PathSegment[] }[];
  if (download.url !== undefined) {
    urls = [{ url: download.url, at: [...at, "url"] }];
  } else if (download.urls !== undefined) {
    urls = download.urls.map((url, i) => ({ url, at: [...at, "urls", i] }));
  } else {
    const list = resolve(baseDir, download.urls_from!);
    context.sources.push(list);
    urls = await readUrlList(list, [...at, "urls_from"], fail);
  }
  const single = download.url !== undefined;
  const to = download.to;
  const intoFolder = to === undefined || to.endsWith("/") || !single;

  const jobs: DownloadJob[] = [];
  const seen = new Set<string>();
  for (const { url, at: urlAt } of urls) {
    let target: string;
    try {
      const fileName = intoFolder ? urlFileName(url) : "";
      target = cleanRelativePath(intoFolder ? join(to ?? ".", fileName) : to!);
    } catch (error) {
      fail(to === undefined ? urlAt : [...at, "to"], (error as Error).message);
      continue;
    }
    const name = single ? spec.name : `${spec.name}/${basename(target)}`;
    if (seen.has(name)) {
      fail(urlAt, `repeats the file name ${basename(target)} in this fan-out`, "use distinct URLs");
      continue;
    }
    seen.add(name);
    jobs.push({
      ...common,
      name,
      kind: "download",
      url,
      path: join(output, target),
      relativePath: target,
      sha256: download.sha256,
      ...settings,
    });
  }
  return jobs;
}

/** `defaults` then `own`, names compared case-insensitively; the job's value wins. */
function mergeHeaders(
  defaults: Record<string, string> | undefined,
  own: Record<string, string> | undefined,
): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of [...Object.entries(defaults ?? {}), ...Object.entries(own ?? {})]) {
    merged.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}

/** The decoded last path segment of a URL, refused when it cannot be a file name. */
function urlFileName(url: string): string {
  const segment = new URL(url).pathname.split("/").at(-1) ?? "";
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  if (name === "" || name === "." || name === ".." || /[\\/\0]/.test(name)) {
    throw new RangeError(`has no usable file name in its URL path: set \`to\` (${url})`);
  }
  return name;
}

async function readUrlList(
  file: string,
  at: PathSegment[],
  fail: ExpandContext["fail"],
): Promise<{ url: string; at: PathSegment[] }[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    fail(at, `cannot read the URL list ${file}: ${(error as Error).message}`);
    return [];
  }
  const urls: { url: string; at: PathSegment[] }[] = [];
  let bad = 0;
  for (const [lineIndex, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    let ok = false;
    try {
      const url = new URL(line);
      ok = url.protocol === "http:" || url.protocol === "https:";
    } catch { /* reported below */ }
    if (ok) urls.push({ url: line, at });
    else {
      bad++;
      fail(at, `${file}:${lineIndex + 1} is not an http(s) URL: got "${line}"`);
    }
  }
  if (urls.length === 0 && bad === 0) fail(at, `lists no URLs: ${file} has none`);
  return urls;
}

async function expandCompute(
  spec: JobSpec,
  common: Omit<JobCommon, "name">,
  context: ExpandContext,
): Promise<ComputeJob[]> {
  const { path, baseDir, fail } = context;
  const compute = spec.compute!;
  const at: PathSegment[] = [...path, "compute", "module"];
  let moduleUrl: string | undefined;
  if (compute.module.startsWith("builtin:")) {
    moduleUrl = builtinModuleUrl(compute.module.slice("builtin:".length));
    if (!moduleUrl) fail(at, `names an unknown built-in: "${compute.module}"`, "try builtin:count");
  } else {
    const file = isAbsolute(compute.module) ? compute.module : resolve(baseDir, compute.module);
    try {
      if (!(await Deno.stat(file)).isFile) throw new Deno.errors.NotFound();
      moduleUrl = pathToFileURL(file).href;
    } catch {
      fail(at, `names a module that does not exist: ${file}`);
    }
  }
  let to: string | undefined;
  if (compute.to !== undefined) {
    try {
      to = cleanRelativePath(compute.to);
      if (isFanOut(spec) && !to.includes("{n}")) {
        throw new RangeError(`needs {n} with repeat or matrix, or every job writes one file`);
      }
    } catch (error) {
      fail([...path, "compute", "to"], (error as Error).message, "such as thumbs/{n}.png");
    }
  }
  const cacheFor = cacheSpecOf(spec, context);
  if (!moduleUrl) return [];
  const isolation = compute.isolation ?? "worker";
  if (isolation === "thread" && compute.memory !== undefined) {
    fail(
      [...path, "compute", "memory"],
      "cannot cap the heap of a thread in taskpool's own process (isolation: thread)",
      "drop memory:, or use isolation: worker or process",
    );
  }
  const granted = compute.permissions;
  const permissions = {
    read: (granted?.read ?? []).map((p) => resolve(baseDir, p)),
    write: (granted?.write ?? []).map((p) => resolve(baseDir, p)),
    net: granted?.net ?? false,
    env: granted?.env ?? false,
  };
  return fanOut(spec).map(({ name, n, extra }) => {
    const target = to === undefined
      ? undefined
      : join(context.output, to.replaceAll("{n}", String(n)));
    const cache = cacheFor(n, target);
    return {
      ...common,
      name,
      kind: "compute" as const,
      moduleUrl: moduleUrl!,
      module: compute.module,
      exportName: compute.export,
      args: [...compute.args, ...extra],
      isolation,
      memoryMb: compute.memory === undefined ? undefined : Math.ceil(compute.memory / 2 ** 20),
      permissions,
      ...(target === undefined ? {} : { to: target }),
      ...(cache ? { cache } : {}),
    };
  });
}

/**
 * A job's `inputs` and `outputs`, made absolute and checked: inputs inside the job file's folder
 * or the output, outputs inside the output. Returns the spec of fan-out member `n` (with `{n}`
 * filled in), or undefined for a job that declares neither. A compute job's `to` is an output.
 */
function cacheSpecOf(
  spec: JobSpec,
  context: ExpandContext,
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

function expandRun(
  spec: JobSpec,
  common: Omit<JobCommon, "name">,
  context: ExpandContext,
): RunJob[] {
  const { path, baseDir, output, fail } = context;
  const argv = spec.run as [string, ...string[]];
  const cwd = spec.cwd ? resolve(baseDir, spec.cwd) : baseDir;
  const jobs = fanOut(spec);
  for (const [row, { extra }] of jobs.entries()) {
    for (const [column, item] of extra.entries()) {
      if (!["string", "number", "boolean"].includes(typeof item)) {
        fail(
          [...path, "matrix", row, column],
          `must be a string, number or boolean for a command's argv: got ${JSON.stringify(item)}`,
        );
      }
    }
  }
  const cacheFor = cacheSpecOf(spec, context);
  return jobs.map(({ name, n, extra }) => ({
    ...common,
    ...(cacheFor(n) ? { cache: cacheFor(n)! } : {}),
    name,
    kind: "run" as const,
    argv: [...argv, ...extra.map(String)],
    cwd,
    env: spec.env ?? {},
    clearEnv: spec.clear_env ?? false,
    logPath: join(output, "logs", `${name}.log`),
    ...(spec.kill_grace !== undefined ? { killGraceMs: spec.kill_grace } : {}),
  }));
}

function isFanOut(spec: JobSpec): boolean {
  return spec.repeat !== undefined || spec.matrix !== undefined;
}

/**
 * One entry per job of a fan-out: `name` alone, or `name/1` .. `name/N` for `repeat: N` or a
 * matrix of N argument lists (`extra`, appended to the job's arguments).
 */
function fanOut(spec: JobSpec): { name: string; n: number; extra: unknown[] }[] {
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
