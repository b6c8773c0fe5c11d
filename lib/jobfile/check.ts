/**
 * Rules across fields that a per-field schema cannot state: one kind per job, unique names,
 * needs that name real jobs, no cycles. They read the raw value defensively, so they run even
 * when the schema found problems elsewhere and every error is reported at once.
 *
 * @module
 */
import { JobFileError } from "./errors.ts";
import { findCycle } from "./graph.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./parse.ts";
import { JOB_KINDS, JOB_NAME_PATTERN } from "./schema.ts";
import { closest } from "./suggest.ts";

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Cross-field errors of a job file's (interpolated) value. */
export function checkJobRules(doc: ParsedDocument, value: unknown): JobFileError[] {
  const errors: JobFileError[] = [];
  const fail = (path: PathSegment[], detail: string, hint?: string, atKey = false) =>
    errors.push(
      new JobFileError(detail, {
        file: doc.file,
        position: atKey ? doc.locateKey(path) : doc.locate(path),
        field: formatPath(path),
        hint,
      }),
    );
  if (!isRecord(value) || !Array.isArray(value.jobs)) return errors;

  const jobs = value.jobs.map((job, index) => ({ job, index })).filter((entry) =>
    isRecord(entry.job)
  ) as { job: Raw; index: number }[];

  const firstByName = new Map<string, number>();
  for (const { job, index } of jobs) {
    const path: PathSegment[] = ["jobs", index];
    const kinds = JOB_KINDS.filter((kind) => job[kind] !== undefined);
    if (kinds.length === 0) {
      fail(path, "must have one of download, compute or run: got none");
    } else if (kinds.length > 1) {
      fail([...path, kinds[1]!], `must be the only kind of its job: it also has ${kinds[0]}`);
    }
    const kind = kinds.length === 1 ? kinds[0] : undefined;
    for (const key of ["repeat", "matrix"] as const) {
      if (job[key] !== undefined && kind === "download") {
        fail([...path, key], "applies to compute and run jobs only", "use urls: to fan out");
      }
    }
    if (job.repeat !== undefined && job.matrix !== undefined) {
      fail([...path, "matrix"], "cannot be combined with repeat", "repeat an entry in the matrix");
    }
    for (const key of ["inputs", "outputs"] as const) {
      if (job[key] !== undefined && kind === "download") {
        fail(
          [...path, key],
          "applies to compute and run jobs only",
          "downloads are skipped when their file is current already",
        );
      }
    }
    for (const key of ["cwd", "env", "clear_env", "kill_grace"] as const) {
      if (job[key] !== undefined && kind && kind !== "run") {
        fail([...path, key], `applies to run jobs only: this is a ${kind} job`);
      }
    }
    if (kind === "download" && isRecord(job.download)) {
      const download = job.download;
      const sources = (["url", "urls", "urls_from"] as const).filter((key) =>
        download[key] !== undefined
      );
      if (sources.length === 0) {
        fail([...path, "download"], "must have one of url, urls or urls_from: got none");
      } else if (sources.length > 1) {
        fail(
          [...path, "download", sources[1]!],
          `must be the only URL source: it also has ${sources[0]}`,
        );
      }
      for (const digest of ["sha256", "sha512"] as const) {
        if (download[digest] !== undefined && sources.length === 1 && sources[0] !== "url") {
          fail([...path, "download", digest], "applies to a single url only");
        }
      }
    }
    if (typeof job.name === "string") {
      const first = firstByName.get(job.name);
      if (first !== undefined) {
        fail([...path, "name"], `repeats the name "${job.name}" of jobs[${first}]`);
      } else {
        firstByName.set(job.name, index);
      }
    }
  }

  const names = [...firstByName.keys()];
  const nodes: { name: string; needs: string[]; index: number }[] = [];
  for (const { job, index } of jobs) {
    if (typeof job.name !== "string") continue;
    const needs = Array.isArray(job.needs)
      ? job.needs.filter((need): need is string => typeof need === "string")
      : [];
    needs.forEach((need, at) => {
      if (need === job.name) {
        fail(["jobs", index, "needs", at], `names the job itself: "${need}"`);
      } else if (!firstByName.has(need) && JOB_NAME_PATTERN.test(need)) {
        const guess = closest(need, names);
        fail(
          ["jobs", index, "needs", at],
          `names an unknown job: "${need}"`,
          guess ? `did you mean "${guess}"?` : undefined,
        );
      }
    });
    if (firstByName.get(job.name) !== index) continue;
    nodes.push({ name: job.name, needs: needs.filter((need) => need !== job.name), index });
  }
  const cycle = findCycle(nodes);
  if (cycle) {
    const start = nodes.find((node) => node.name === cycle[0])!;
    fail(["jobs", start.index, "needs"], `forms a cycle: ${cycle.join(" -> ")}`);
  }
  return errors;
}
