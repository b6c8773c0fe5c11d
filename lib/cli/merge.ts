/**
 * `taskpool merge REPORT...`: the reports of static shards (`--shard K/N`) or of several
 * machines, merged into one report on one time axis, with its summary, and `--html`/`--trace`
 * drawing a lane group per run.
 *
 * @module
 */
import { resolve } from "../util/posix_path.ts";
import { isFolder } from "../util/paths.ts";
import { UsageError } from "../errors.ts";
import type { Kinds } from "../kind_definition.ts";
import { mergeReports, runsOf } from "../report/merge.ts";
import { readReport } from "../report/read.ts";
import { formatSummary } from "../report/summary.ts";
import { writeTimelines } from "../report/outputs.ts";
import { reportJson } from "../report/json.ts";
import { writeTextFileAtomic } from "../util/write_atomic.ts";
import { parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import { checkTimelinePaths, TIMELINE_FLAGS, TIMELINE_HELP } from "./timelines.ts";

/** Help text of `taskpool merge`. */
export const MERGE_HELP =
  `Usage: taskpool merge REPORT.json... [-o PATH] [--html PATH] [--trace PATH]

Merges the reports of shards (run --shard K/N) or of several machines into one report: every job
once (the best outcome when a job is in more than one), on one time axis from the earliest start,
each saying which run it came from (ranOn); totals, the slowest jobs over all and an exit code
over all (0 when every job succeeded). Prints the summary; writes the merged report atomically.

Options:
  -o, --output PATH      where the merged report goes (default merged-report.json)
      --slowest N        how many of the slowest jobs to list (default 5)
${TIMELINE_HELP}
                         (a lane group per merged run)
`;

/** Runs `taskpool merge`; resolves with the merged report's exit code. */
export async function mergeCommand(args: string[], io: CliIo, kinds: Kinds): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o" },
    slowest: { type: "string" },
    ...TIMELINE_FLAGS,
  });
  if (positionals.length === 0) throw new UsageError("merge needs the report files to merge");
  const slowest = values.slowest === undefined ? 5 : Number(values.slowest);
  if (!Number.isInteger(slowest) || slowest < 0) {
    throw new UsageError(`--slowest must be a whole number: got "${values.slowest}"`);
  }
  // Nothing it reads is written over: a merged report in place of a shard's counts it twice later.
  const output = resolve(values.output ?? "merged-report.json");
  const read = new Set(positionals.map((path) => resolve(path)));
  const taken = (path: string) =>
    read.has(path)
      ? "is one of the reports it merges"
      : path === output
      ? "is the merged report"
      : undefined;
  if (isFolder(output)) {
    throw new UsageError(
      `--output ${values.output ?? "merged-report.json"} is a folder, not a file`,
    );
  }
  if (read.has(output)) {
    throw new UsageError(
      `--output ${values.output ?? "merged-report.json"} is one of the reports it merges`,
    );
  }
  checkTimelinePaths(values, taken);
  const inputs = await Promise.all(
    positionals.map(async (path) => ({ path, report: await readReport(path) })),
  );
  const merged = mergeReports(inputs);
  await writeTextFileAtomic(output, reportJson(merged));
  const sources = merged.merged!.map((source) =>
    `  ${source.label}: ${source.path}, ${source.file}, started ${source.startedAt}, exit ${source.exitCode}`
  );
  io.stdout(
    `${merged.file}: ${inputs.length} reports merged, ${merged.summary.total} jobs\n` +
      `${sources.join("\n")}\n${
        formatSummary(merged, { color: io.color, slowest, reportPath: output })
      }\n`,
  );
  const written = await writeTimelines(
    { trace: values.trace, html: values.html },
    runsOf(merged),
    `taskpool: ${inputs.length} runs of ${merged.file}, merged`,
    kinds.map((kind) => kind.name),
  );
  for (const timeline of written) io.stderr(`taskpool: timeline written to ${timeline}\n`);
  return merged.exitCode;
}
