/**
 * `isolation: thread`: the Worker pool's threads in this very process, each with its profile's
 * permissions as Worker options. Busy loops are left out here: no thread stuck in one can be
 * stopped, and it would spin in the test runner (tests/e2e/isolation_test.ts runs one through
 * the CLI, whose run ends all the same).
 */
import assert from "node:assert/strict";
import { ComputeError } from "../../../lib/pools/compute_error.ts";
import { WorkerPool } from "../../../lib/pools/worker/worker_pool.ts";
import { testProfile, testTask as task } from "../../helpers/worker_profiles.ts";

const profile = { profile: testProfile({ inProcess: true }) };

Deno.test("isolation thread: tasks run on reused threads in this process, with no host process", async () => {
  const pool = new WorkerPool({ size: 2, aheadPerThread: 4 });
  try {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.run(task("add", [i, 1]), profile)),
    );
    assert.deepEqual(results.map((r) => r.value), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(new Set(results.map((r) => r.workerId)), new Set([1, 2]));
    assert.equal((await pool.run(task("logsAndPid"), profile)).value, Deno.pid);
    assert.equal(pool.hostsStarted, 1);
    assert.equal(pool.rssBytes, 0); // no process of its own: its memory is this process's
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: a task that throws, exits or closes its thread fails alone, and this process goes on", async () => {
  const pool = new WorkerPool({ size: 1 });
  const failures: [exportName: string, args: unknown[], reason: RegExp][] = [
    ["throws", [], /^this job always fails$/],
    ["exits", [7], /^the task called Deno\.exit\(7\)$/],
    ["exitsThroughProcess", [3], /^the task called Deno\.exit\(3\)$/],
    ["closes", [], /^the Worker died: the task called close\(\)$/],
    ["dies", [], /^the Worker died: .*uncaught in a timer .*work\.ts:\d+/],
  ];
  try {
    for (const [exportName, args, reason] of failures) {
      const error = await pool.run(task(exportName, args), profile).then(() => null, (e) => e);
      assert.ok(error instanceof ComputeError, exportName);
      assert.match(error.message, reason);
      if (exportName === "throws") assert.match(error.workerStack ?? "", /testdata\/work\.ts:\d+/);
    }
    assert.equal((await pool.run(task("add", [1, 2]), profile)).value, 3);
    assert.equal(pool.hostsStarted, 1); // each death cost a thread, the throw not even that
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: an aborted task that never ends fails at once, and the next runs on fresh threads", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const loopback = {
    profile: testProfile({ inProcess: true, net: [`127.0.0.1:${listener.addr.port}`] }),
  };
  const pool = new WorkerPool({ size: 1 });
  try {
    const controller = new AbortController();
    const hung = pool.run(task("hangs", [listener.addr.port]), {
      ...loopback,
      signal: controller.signal,
    });
    (await listener.accept()).close(); // it runs
    controller.abort(new Error("given up"));
    await assert.rejects(hung, /given up/);
    assert.equal((await pool.run(task("add", [2, 3]), loopback)).value, 5);
    assert.equal(pool.hostsStarted, 2);
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: bytes and replies too big for the ring come back", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 2 });
  try {
    const [bytes, long, small] = await Promise.all([
      pool.run(task("bytes", [1000]), profile),
      pool.run(task("letters", [600_000]), profile),
      pool.run(task("add", [1, 1]), profile),
    ]);
    assert.deepEqual(bytes.value, Uint8Array.from({ length: 1000 }, (_, i) => i % 256));
    assert.equal((long.value as string).length, 600_000);
    assert.equal(small.value, 2);
  } finally {
    await pool.close();
  }
});
