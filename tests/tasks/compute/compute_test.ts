import assert from "node:assert/strict";
import { loadPlan } from "../../../lib/jobfile/mod.ts";
import { ProcessPool } from "../../../lib/pools/process/process_pool.ts";
import { WorkerPool } from "../../../lib/pools/worker/worker_pool.ts";
import { createKinds } from "../../../tasks/mod.ts";
import { JobCache } from "../../../lib/incremental/job_cache.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("the compute kind starts the hosts of its first Worker and thread jobs as it is prepared", async () => {
  await using dir = await tempDir();
  const file = await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      "  - { name: on-worker, compute: { module: 'builtin:count', args: [1] }, repeat: 3 }",
      "  - { name: on-thread, compute: { module: 'builtin:count', args: [1], isolation: thread } }",
      "  - { name: on-process, compute: { module: 'builtin:count', args: [1], isolation: process } }",
      "  - name: remembered",
      "    compute: { module: 'builtin:count', isolation: thread, permissions: { env: true } }",
      "    outputs: [count.txt]",
      "",
    ].join("\n"),
  );
  const plan = await loadPlan(file);
  const workers = new WorkerPool({ size: 3 });
  const processes = new ProcessPool({ size: 3 });
  try {
    const kinds = createKinds({
      output: plan.output,
      workers,
      processes,
      jobCache: await JobCache.load(plan.output),
    });
    const compute = plan.jobs.filter((job) => job.kind === "compute");
    kinds.compute.prepare!(compute);
    // One host for the three jobs of a fan-out, one for the thread job; the job that may turn
    // out cached (its own rights would need a host of its own), and the process job, start
    // nothing.
    assert.equal(workers.hostsStarted, 2);
    assert.equal(processes.started, 0);
  } finally {
    await workers.close();
    await processes.close();
  }
});
