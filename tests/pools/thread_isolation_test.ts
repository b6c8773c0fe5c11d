/**
 * `isolation: thread`: the Worker pool's threads in this very process, each with its profile's
 * permissions as Worker options. Busy loops are left out here: no thread stuck in one can be
 * stopped, and it would spin in the test runner (tests/e2e/isolation_test.ts runs one through
 * the CLI, whose run ends all the same).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ComputeError } from "../../lib/errors.ts";
import { WorkerPool, type WorkerProfile } from "../../lib/pools/worker_pool.ts";
import { RUNNER_FILES } from "../../tasks/privileges.ts";
import { tempDir } from "../helpers/temp.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).href;
const HERE = dirname(fileURLToPath(WORK));
const task = (exportName: string, args: unknown[] = []) => ({
  moduleUrl: WORK,
  exportName,
  args,
  context: { output: "/out", job: "t" },
});
const NONE = { run: false, ffi: false, sys: false, import: false } as const;
const narrow = (read: string[] = [], net: string[] | false = false): WorkerProfile => ({
  flags: [`--allow-read=${[HERE, ...RUNNER_FILES, ...read]}`, `net=${net}`],
  permissions: { ...NONE, read: [HERE, ...RUNNER_FILES, ...read], write: false, env: false, net },
});
const profile = { profile: narrow() };

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

Deno.test("isolation thread: a throwing task fails with its stack, and the thread stays", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    const error = await pool.run(task("throws"), profile).then(() => undefined, (e) => e);
    assert.ok(error instanceof ComputeError);
    assert.equal(error.message, "this job always fails");
    assert.match(error.workerStack ?? "", /testdata\/work\.ts:\d+/);
    assert.equal((await pool.run(task("add", [2, 2]), profile)).value, 4);
    assert.equal(pool.started, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: a task that exits or closes its thread fails alone, and this process goes on", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(
      pool.run(task("exits", [7]), profile),
      /^ComputeError: the task called Deno\.exit\(7\)$/,
    );
    await assert.rejects(
      pool.run(task("exitsThroughProcess", [3]), profile),
      /^ComputeError: the task called Deno\.exit\(3\)$/,
    );
    await assert.rejects(
      pool.run(task("closes"), profile),
      /^ComputeError: the Worker died: the task called close\(\)$/,
    );
    await assert.rejects(
      pool.run(task("dies"), profile),
      /^ComputeError: the Worker died: .*uncaught in a timer .*work\.ts:\d+/,
    );
    assert.equal((await pool.run(task("add", [1, 2]), profile)).value, 3);
    assert.equal(pool.hostsStarted, 1); // each death cost a thread
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: each thread has only its profile's permissions, narrower than this process's", async () => {
  await using secrets = await tempDir();
  const secret = await secrets.write("id_rsa", "private\n");
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(pool.run(task("readsFile", [secret]), profile), /read access to/);
    await assert.rejects(
      pool.run(task("connects", [listener.addr.port]), profile),
      /net access to "127\.0\.0\.1:\d+"/,
    );
    const widened = { profile: narrow([secrets.path], [`127.0.0.1:${listener.addr.port}`]) };
    assert.equal((await pool.run(task("readsFile", [secret]), widened)).value, "private\n");
    assert.equal(
      (await pool.run(task("connects", [listener.addr.port]), widened)).value,
      "connected",
    );
  } finally {
    await pool.close();
  }
});

Deno.test("isolation thread: an aborted task that never ends fails at once, and the next runs on fresh threads", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const loopback = { profile: narrow([], [`127.0.0.1:${listener.addr.port}`]) };
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
