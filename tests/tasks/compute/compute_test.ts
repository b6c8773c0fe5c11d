import assert from "node:assert/strict";
import { loadPlan } from "../../../lib/jobfile/mod.ts";
import { ProcessPool } from "../../../lib/pools/process/process_pool.ts";
import { WorkerPool } from "../../../lib/pools/worker/worker_pool.ts";
import { compute } from "../../../tasks/compute/mod.ts";
import type { ComputeJob } from "../../../tasks/compute/job.ts";
import { JobCache } from "../../../lib/incremental/job_cache.ts";
import { withJobCache } from "../../../lib/incremental/cached_kind.ts";
import { HttpTransport } from "../../../lib/http/transport.ts";
import { tempDir } from "../../helpers/temp.ts";
import { KINDS } from "../../../tasks/mod.ts";

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
  const plan = await loadPlan(file, { kinds: KINDS });
  const workers = new WorkerPool({ size: 3 });
  const processes = new ProcessPool({ size: 3 });
  const http = new HttpTransport();
  try {
    const created = await compute.create({
      output: plan.output,
      computePools: () => Promise.resolve({ workers, processes }),
      httpTransport: () => Promise.resolve(http),
      perHost: 1,
      force: false,
      cpuPlace: "job",
      oneAtATime: false,
    });
    const kind = withJobCache(created, { cache: await JobCache.load(plan.output) });
    kind.prepare!(plan.jobs.filter((job) => job.kind === "compute") as ComputeJob[]);
    // One host for the three jobs of a fan-out, one for the thread job; the job that may turn
    // out cached (its own rights would need a host of its own), and the process job, start
    // nothing.
    assert.equal(workers.hostsStarted, 2);
    assert.equal(processes.started, 0);
  } finally {
    await workers.close();
    await processes.close();
    http.close();
  }
});
