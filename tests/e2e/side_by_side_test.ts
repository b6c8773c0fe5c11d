/**
 * Separate compute jobs (entries of their own, not one fan-out) run at the same time when the
 * pool has room, whatever their rights and isolation: each pair below ends only if its two jobs
 * overlap (each waits for the other; a job run after its partner would time out).
 */
import assert from "node:assert/strict";
import { runYaml } from "../helpers/run_yaml.ts";
import { tempDir } from "../helpers/temp.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).pathname;

/** Two jobs that meet; `extras` go into each one's `compute:`. */
function pair(names: [string, string], extras: [string, string]): string[] {
  return names.map((name, i) =>
    `  - { name: ${name}, timeout: 10s, compute: { module: ${WORK}, export: meets, args: [${name}, ${
      names[1 - i]
    }]${extras[i]} } }`
  );
}

Deno.test("separate compute jobs run side by side: same rights, other rights, other isolations", async () => {
  await using dir = await tempDir();
  const pairs: [string, string][] = [["same-a", "same-b"], ["rights-a", "rights-b"], [
    "mixed-a",
    "mixed-b",
  ]];
  const report = await runYaml(
    dir,
    [
      "output: out",
      "concurrency: { cpu: 2 }",
      "jobs:",
      ...pair(pairs[0]!, ["", ""]),
      ...pair(pairs[1]!, ["", ", permissions: { env: [HOME] }"]),
      ...pair(pairs[2]!, [", isolation: thread", ", isolation: process"]),
      "",
    ].join("\n"),
  );
  for (const [a, b] of pairs) {
    for (const [name, partner] of [[a, b], [b, a]] as const) {
      const job = report.job(name);
      assert.equal(job.status, "ok", `${name}: ${JSON.stringify(job.error)}`);
      assert.equal((job as { result?: unknown }).result, `${name} met ${partner}`);
    }
  }
});
