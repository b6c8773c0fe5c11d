/**
 * `--shard`, `--only`, `--skip` and `--rerun-failed`, shared by `run` and `plan`.
 *
 * @module
 */
import type { Plan } from "../jobfile/job.ts";
import type { Selection } from "../run/selection.ts";
import { UsageError } from "../errors.ts";

/** Their `parseArgs` options. */
export const SELECTION_FLAGS = {
  only: { type: "string", multiple: true },
  skip: { type: "string", multiple: true },
  "rerun-failed": { type: "string", bare: "" },
  shard: { type: "string" },
} as const;

/** Their lines of a command's help. */
export const SELECTION_HELP =
  `      --shard K/N        only shard K of N (1-based): every job in exactly one shard, with
                         all it needs; the same split on every machine
      --only NAME[,NAME] only these jobs or groups, and what they need; repeatable
      --skip NAME[,NAME] leave out these jobs or groups, and what needs them; repeatable
      --rerun-failed [REPORT]  only what failed, was skipped or cancelled in REPORT (by
                         name; default the last run's report); what it needs that succeeded
                         then is not run again`;

/**
 * The plan with the selection applied (the same plan when no flag is given), and the lines that
 * say what was left out, for stderr.
 *
 * @throws {UsageError} for a name that is no job or group, or a report that cannot be read
 */
export async function selectFromFlags(
  plan: Plan,
  values: {
    only?: string[] | undefined;
    skip?: string[] | undefined;
    "rerun-failed"?: string | undefined;
    shard?: string | undefined;
  },
): Promise<{ plan: Plan; notes: string[] }> {
  // Loaded when a flag asks for them: a run's child parses these flags, and selects nothing.
  if (values.shard !== undefined) {
    const { parseShard, shardOf } = await import("../run/shards.ts");
    const shard = parseShard(values.shard);
    const jobs = shardOf(plan.jobs, shard);
    const sharded = { ...plan, jobs, shard: `${shard.index}/${shard.count}` };
    const rest = await selectFromFlags(sharded, { ...values, shard: undefined });
    return {
      plan: rest.plan,
      notes: [
        `taskpool: shard ${shard.index}/${shard.count}: ${jobs.length} of ${plan.jobs.length} jobs\n`,
        ...rest.notes,
      ],
    };
  }
  const list = (items: string[] | undefined) =>
    items?.flatMap((item) => item.split(",")).map((name) => name.trim()).filter(Boolean);
  const only = list(values.only);
  const skip = list(values.skip);
  // `--only "$JOBS"` with JOBS empty would run nothing and succeed: a cron job doing no work.
  if (only?.length === 0) {
    throw new UsageError(
      `--only needs a job or group name: got ${values.only!.map((item) => `"${item}"`).join(", ")}`,
    );
  }
  const given = values["rerun-failed"];
  if (only === undefined && skip === undefined && given === undefined) return { plan, notes: [] };
  const { selectJobs, doneIn } = await import("../run/selection.ts");
  const rerun = given === "" ? await lastReport(plan) : given;
  const selection: Selection = {
    ...(only ? { only } : {}),
    ...(skip ? { skip } : {}),
    ...(rerun ? { done: await doneIn(rerun, new Set(plan.jobs.map((job) => job.name))) } : {}),
  };
  const selected = selectJobs(plan.jobs, selection);
  const notes: string[] = [];
  if (selected.skippedWithNeeds.length > 0) {
    notes.push(
      `taskpool: --skip also leaves out what needs it: ${selected.skippedWithNeeds.join(", ")}\n`,
    );
  }
  notes.push(
    `taskpool: running ${selected.jobs.length} of ${plan.jobs.length} jobs` +
      `${rerun ? ` (what failed, was skipped or cancelled in ${rerun})` : ""}\n`,
  );
  return { plan: { ...plan, jobs: selected.jobs }, notes };
}

/**
 * The report of the last run of `plan`'s file: its report path, or with `{date}` and `{time}` in
 * it, the newest report that matches.
 *
 * @throws {UsageError} when there is none
 */
async function lastReport(plan: Plan): Promise<string> {
  let path: string | undefined = plan.report;
  if (plan.reportPattern !== undefined) {
    const { reportsOf } = await import("../report/history.ts");
    path = (await reportsOf(plan.reportPattern)).at(-1);
  }
  const there = path !== undefined &&
    await Deno.stat(path).then((info) => info.isFile, () => false);
  if (!there) {
    throw new UsageError(
      `--rerun-failed: no report of an earlier run at ${plan.reportPattern ?? plan.report} ` +
        `(give one: --rerun-failed REPORT)`,
    );
  }
  return path!;
}
