/**
 * Runs a job file written in a test through the real pipeline (load, validate, expand,
 * schedule, download, report) and returns the report as written to disk.
 */
import { loadPlan } from "../../lib/jobfile/mod.ts";
import type { Report, ReportJob } from "../../lib/report/types.ts";
import { runPlan } from "../../lib/run/run_plan.ts";
import type { TempDir } from "./temp.ts";
import { KINDS } from "../../tasks/mod.ts";

/** Options for {@linkcode runYaml}. */
export interface RunYamlOptions {
  /** `${VAR}` values. @default none */
  env?: Record<string, string>;
  force?: boolean;
  /** Abort the run after this long, so a hang fails the test instead. @default 20 s */
  limitMs?: number;
}

/** Writes `yaml` as `<dir>/jobs.yaml`, runs it, and reads back its report. */
export async function runYaml(
  dir: TempDir,
  yaml: string,
  options: RunYamlOptions = {},
): Promise<Report & { job(name: string): ReportJob }> {
  const { env = {}, force = false, limitMs = 20_000 } = options;
  const file = await dir.write("jobs.yaml", yaml);
  const plan = await loadPlan(file, { kinds: KINDS, env: (name) => env[name] });
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(new Error(`test run over ${limitMs}ms`)), limitMs);
  try {
    await runPlan(plan, { kinds: KINDS, force, signal: limit.signal });
  } finally {
    clearTimeout(timer);
  }
  const report: Report = JSON.parse(await Deno.readTextFile(plan.report));
  return {
    ...report,
    job(name) {
      const found = report.jobs.find((job) => job.name === name);
      if (!found) throw new Error(`no job ${name} in the report`);
      return found;
    },
  };
}

/** Whether a path exists. */
export const exists = (path: string): Promise<boolean> =>
  Deno.lstat(path).then(() => true, () => false);
