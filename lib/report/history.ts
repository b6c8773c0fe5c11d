/**
 * Reports kept as a history: `report:` (or `--report`) may hold `{date}` (2026-11-22) and
 * `{time}` (031500), in local time, so each run writes its own report; `--keep-reports N` then
 * removes all but the newest N that match the pattern and are taskpool reports.
 *
 * @module
 */
import { dirname, join, sep } from "../util/posix_path.ts";

const PLACEHOLDER = /\{(date|time)\}/g;

/** Whether a report path is a pattern. */
export function hasPlaceholders(path: string): boolean {
  return /\{(date|time)\}/.test(path);
}

/**
 * The report path for a run started at `at`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillReportPath } from "./history.ts";
 * const at = new Date(2026, 10, 22, 3, 15, 0);
 * assert(fillReportPath("/r/{date}/run-{time}.json", at) === "/r/2026-11-22/run-031500.json");
 * // A second run in that second, the first one's report there:
 * const taken = (path: string) => path === "/r/2026-11-22/run-031500.json";
 * assert(fillReportPath("/r/{date}/run-{time}.json", at, taken) === "/r/2026-11-22/run-031500-2.json");
 * ```
 */
export function fillReportPath(
  template: string,
  at: Date,
  taken: (path: string) => boolean = () => false,
): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const date = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
  const time = `${two(at.getHours())}${two(at.getMinutes())}${two(at.getSeconds())}`;
  const fill = (time: string) =>
    template.replace(PLACEHOLDER, (_, name) => name === "date" ? date : time);
  // A pattern with {time} gives each run its own report: a run in the same second as the last
  // one gets 031500-2 (then -3, ...) rather than its report's place. {date} alone asks for one a
  // day, which the day's last run writes.
  let path = fill(time);
  if (!/\{time\}/.test(template)) return path;
  for (let n = 2; taken(path); n++) path = fill(`${time}-${n}`);
  return path;
}

/**
 * Removes the oldest reports matching `template` (an absolute path), keeping the newest `keep`;
 * resolves with the paths removed. Oldest means earliest by the date and time in the name. A file
 * whose name matches but that is not a taskpool report (a data file named by its date) is neither
 * removed nor counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pruneReports } from "./history.ts";
 * const dir = await Deno.makeTempDir();
 * const report = JSON.stringify({ version: 1, file: "jobs.yaml" }, null, 2);
 * for (const day of ["01", "02", "03"]) {
 *   await Deno.writeTextFile(`${dir}/r-2026-11-${day}.json`, report);
 * }
 * await Deno.writeTextFile(`${dir}/r-2026-10-01.json`, '{"rows": "data named by its date"}');
 * const removed = await pruneReports(`${dir}/r-{date}.json`, 2);
 * assert.deepEqual(removed, [`${dir}/r-2026-11-01.json`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pruneReports(template: string, keep: number): Promise<string[]> {
  const found = await reportsOf(template);
  const root = rootOf(template);
  const removed = found.slice(0, Math.max(0, found.length - keep));
  for (const path of removed) await Deno.remove(path).catch(() => {});
  // Folders a placeholder named (one per day, say) go once they are empty.
  for (const folder of new Set(removed.map((path) => dirname(path)))) {
    if (folder.length > root.length) await Deno.remove(folder).catch(() => {});
  }
  return removed;
}

/** The folder above the first part of `template` with a placeholder. */
function rootOf(template: string): string {
  const parts = template.split(sep);
  return parts.slice(0, parts.findIndex((part) => hasPlaceholders(part))).join(sep) || sep;
}

/**
 * The taskpool reports that match `template` (an absolute path with `{date}` or `{time}`), oldest
 * first by the date and time in their names.
 */
export async function reportsOf(template: string): Promise<string[]> {
  const parts = template.split(sep);
  const fixed = parts.findIndex((part) => hasPlaceholders(part));
  if (fixed < 0) return [];
  const root = rootOf(template);
  const pattern = patternOf(template);
  const found: { path: string; key: string }[] = [];
  const depth = parts.length - fixed;
  const walk = async (folder: string, level: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (level < depth - 1) {
        if (entry.isDirectory) await walk(path, level + 1);
        continue;
      }
      const match = entry.isFile ? pattern.exec(path) : null;
      if (match && await isReport(path)) {
        found.push({ path, key: sortKey(template, match) });
      }
    }
  };
  await walk(root, 0);
  found.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return found.map(({ path }) => path);
}

/** The start of report.json as taskpool writes it: its version, then its job file. */
const REPORT_HEAD = /^\{\s*"version":\s*\d+,\s*"file":\s*"/;

/** Whether `path` is a taskpool report, by its first bytes. */
async function isReport(path: string): Promise<boolean> {
  try {
    using handle = await Deno.open(path);
    const head = new Uint8Array(64);
    const read = await handle.read(head) ?? 0;
    return REPORT_HEAD.test(new TextDecoder().decode(head.subarray(0, read)));
  } catch {
    return false;
  }
}

function patternOf(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  return new RegExp(
    `^${
      escaped.replace(/\{date\}/g, "(\\d{4}-\\d{2}-\\d{2})")
        .replace(/\{time\}/g, "(\\d{6}(?:-\\d+)?)")
    }$`,
  );
}

/** The captured date and time, date first, whatever their order in the path. */
function sortKey(template: string, match: RegExpExecArray): string {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  const values = names.map((name, index) => ({ name, value: match[index + 1]! }));
  const dates = values.filter((v) => v.name === "date").map((v) => v.value);
  // 031500-2 after 031500 (whose name sorts after it): the count padded, none as 0.
  const times = values.filter((v) => v.name === "time").map((v) => {
    const [time, n = "0"] = v.value.split("-");
    return `${time}.${n.padStart(9, "0")}`;
  });
  return [...dates, ...times, match[0]].join(" ");
}
