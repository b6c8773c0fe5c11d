/**
 * Rules across fields that a per-field schema cannot state: one kind per job, unique names,
 * needs that name real jobs, no cycles. They read the raw value defensively, so they run even
 * when the schema found problems elsewhere and every error is reported at once.
 *
 * @module
 */
import { JobFileError } from "./errors.ts";
import { findCycle } from "./graph.ts";
import { formatPath, type ParsedDocument, type PathSegment } from "./document.ts";
import { JOB_NAME_PATTERN, type SchemaFields } from "./fields.ts";
import type { Kinds } from "../kind_definition.ts";
import { closest } from "./suggest.ts";

type Raw = Record<string, unknown>;

/** The keys of an entry that a kind's `entryRules` may rule out. */
const RULED_KEYS = { fanOut: ["repeat", "matrix"], incremental: ["inputs", "outputs"] } as const;

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Cross-field errors of a job file's (interpolated) value, whose jobs may be of `kinds`; `fields`
 * build the kinds' entry fields (whose keys are all that is read of them).
 */
export function checkJobRules(
  doc: ParsedDocument,
  value: unknown,
  kinds: Kinds,
  fields: SchemaFields,
): JobFileError[] {
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

  // The entry keys each kind reads alone (a command's `cwd`), worked out once.
  const ownKeys = new Map(
    kinds.map((kind) => [kind, Object.keys(kind.entryFields?.(fields) ?? {})]),
  );
  const firstByName = new Map<string, number>();
  for (const { job, index } of jobs) {
    const path: PathSegment[] = ["jobs", index];
    const present = kinds.filter((kind) => job[kind.name] !== undefined);
    if (present.length === 0) {
      fail(path, `must have one of ${listOr(kinds.map((kind) => kind.name))}: got none`);
    } else if (present.length > 1) {
      fail(
        [...path, present[1]!.name],
        `must be the only kind of its job: it also has ${present[0]!.name}`,
      );
    }
    const kind = present.length === 1 ? present[0] : undefined;
    if (kind) {
      const rules = kind.entryRules ?? {};
      for (const rule of ["fanOut", "incremental"] as const) {
        const hint = rules[rule];
        if (hint === undefined) continue;
        for (const key of RULED_KEYS[rule]) {
          if (job[key] !== undefined) {
            fail([...path, key], `applies to ${appliesTo(kinds, rule)}`, hint);
          }
        }
      }
    }
    if (job.repeat !== undefined && job.matrix !== undefined) {
      fail([...path, "matrix"], "cannot be combined with repeat", "repeat an entry in the matrix");
    }
    for (const owner of kinds) {
      if (owner === kind || !kind) continue;
      for (const key of ownKeys.get(owner)!) {
        if (job[key] !== undefined) {
          fail([...path, key], `applies to ${owner.name} jobs only: this is a ${kind.name} job`);
        }
      }
    }
    const own = kind ? job[kind.name] : undefined;
    if (kind?.check && isRecord(own)) kind.check(own, [...path, kind.name], fail);
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
    // A long cycle shows its first and last few jobs, and how many it goes through.
    const shown = cycle.length <= 12
      ? cycle.join(" -> ")
      : `${cycle.slice(0, 6).join(" -> ")} -> ... -> ${cycle.slice(-4).join(" -> ")} (${
        cycle.length - 1
      } jobs)`;
    fail(["jobs", start.index, "needs"], `forms a cycle: ${shown}`);
  }
  return errors;
}

/** `a, b or c`. */
function listOr(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** The kinds an entry rule applies to, such as `compute and run jobs only`. */
function appliesTo(kinds: Kinds, rule: "fanOut" | "incremental"): string {
  const names = kinds.filter((kind) => kind.entryRules?.[rule] === undefined).map((kind) =>
    kind.name
  );
  const list = names.length <= 1
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return `${list} jobs only`;
}
