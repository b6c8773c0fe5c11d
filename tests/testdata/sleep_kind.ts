/**
 * A fourth job kind that exists only for the tests: `sleep: { ms: 20ms }` waits, on the cpu pool.
 * It lives outside `lib/` and `tasks/`, and nothing in them names it: the tests hand it to
 * `main()` beside the registry's kinds, to show that a kind is one definition and one list entry.
 */
import type { z } from "zod";
import type { SchemaFields } from "../../lib/jobfile/fields.ts";
import type { Job } from "../../lib/jobfile/job.ts";
import type { KindDefinition } from "../../lib/kind_definition.ts";
import type { TaskResult } from "../../lib/scheduler/kind.ts";
import { sleep as wait } from "../../lib/util/sleep.ts";

/** A sleep job: how long it waits. */
export interface SleepJob extends Job {
  kind: "sleep";
  ms: number;
}

/** What a sleep job returns. */
export interface SleepResult extends TaskResult {
  sleptMs: number;
}

const sleepSpec = ({ z, duration }: SchemaFields) =>
  z.strictObject({ ms: duration.describe("How long to wait.") }, {
    error: "must be a mapping with ms",
  });

/** The sleep kind. */
export const sleepKind: KindDefinition<SleepJob, SleepResult> = {
  name: "sleep",
  spec: sleepSpec,
  pool: "cpu",
  defaultRetries: 0,
  entryRules: { incremental: "a sleep reads and writes nothing" },
  expand: (entry, { common, fanOut }) =>
    fanOut().map(({ name }) => ({
      ...common,
      name,
      kind: "sleep" as const,
      ms: (entry.sleep as z.output<ReturnType<typeof sleepSpec>>).ms,
    })),
  grant: () => {},
  describe: (job) => `${job.ms} ms`,
  report: (_job, outcome) => {
    const result = outcome.result as SleepResult | undefined;
    return result ? { sleptMs: result.sleptMs } : {};
  },
  create: () => ({
    pool: "cpu",
    async run(job, { signal }) {
      const started = performance.now();
      await wait(job.ms, { signal });
      return { sleptMs: Math.round(performance.now() - started) };
    },
  }),
};
