import assert from "node:assert/strict";
import { ComputeError } from "../../lib/errors.ts";
import { WorkerPool } from "../../lib/pools/worker_pool.ts";

const WORK = new URL("../testdata/work.ts", import.meta.url).href;
const task = (exportName: string, args: unknown[] = []) => ({
  moduleUrl: WORK,
  exportName,
  args,
  context: { output: "/out", job: "t" },
});

Deno.test("WorkerPool.run() reuses persistent workers up to its size", async () => {
  const pool = new WorkerPool({ size: 2 });
  try {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.run(task("add", [i, 1]))),
    );
    assert.deepEqual(results.map((r) => r.value), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(pool.started, 2);
    assert.deepEqual(new Set(results.map((r) => r.workerId)), new Set([1, 2]));
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool.run() passes the context last and calls the default export", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    assert.equal((await pool.run(task("default", ["pool"]))).value, "hello pool");
    assert.deepEqual((await pool.run(task("context", [1]))).value, { output: "/out", job: "t" });
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool.run() rejects a throwing job with its stack, and the worker stays", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    const error = await pool.run(task("throws")).then(() => undefined, (e) => e);
    assert.ok(error instanceof ComputeError);
    assert.equal(error.message, "this job always fails");
    assert.match(error.workerStack ?? "", /testdata\/work\.ts:\d+/);
    assert.equal((await pool.run(task("add", [2, 2]))).value, 4);
    assert.equal(pool.started, 1);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool.run() rejects missing exports and results without a JSON form", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(pool.run(task("notAFunction")), /has no exported function "notAFunction"/);
    await assert.rejects(pool.run(task("notJson")), /the result has no JSON form/);
    await assert.rejects(
      pool.run({ ...task("add"), args: [() => 1] }),
      /arguments cannot be sent to a Worker/,
    );
  } finally {
    pool.close();
  }
});

/** Resolves when a Worker running `hangs(key)` has started it. */
function hangStarted(key: string): { started: Promise<void>; close: () => void } {
  const channel = new BroadcastChannel("taskpool-test");
  const { promise, resolve } = Promise.withResolvers<void>();
  channel.onmessage = (event) => event.data === key && resolve();
  return { started: promise, close: () => channel.close() };
}

Deno.test("WorkerPool.run() terminates and replaces the worker of an aborted job", async () => {
  const pool = new WorkerPool({ size: 1 });
  const watch = hangStarted("abort-test");
  try {
    const controller = new AbortController();
    const hung = pool.run(task("hangs", ["abort-test"]), { signal: controller.signal });
    const queued = pool.run(task("add", [1, 1]));
    await watch.started;
    controller.abort(new DOMException("too slow", "TimeoutError"));
    await assert.rejects(hung, (e: DOMException) => e.name === "TimeoutError");
    const next = await queued;
    assert.equal(next.value, 2);
    assert.equal(next.workerId, 2);
  } finally {
    watch.close();
    pool.close();
  }
});

Deno.test("WorkerPool.run() drops a job aborted while it waits, without touching a worker", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    const controller = new AbortController();
    const waiting = pool.run(task("add", [1, 1]), { signal: controller.signal });
    controller.abort(new Error("cancelled"));
    await assert.rejects(waiting, /cancelled/);
    assert.equal((await pool.run(task("add", [2, 3]))).value, 5);
    assert.equal(pool.started, 1);
  } finally {
    pool.close();
  }
});

Deno.test("WorkerPool.run() fails the job of a worker that dies, and serves the next jobs", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(pool.run(task("dies")), (error: ComputeError) => {
      assert.match(error.message, /the Worker died: .*uncaught in a timer .*work\.ts:\d+/);
      return true;
    });
    const results = await Promise.all([
      pool.run(task("add", [1, 2])),
      pool.run(task("add", [3, 4])),
    ]);
    assert.deepEqual(results.map((r) => r.value), [3, 7]);
    assert.equal(pool.started, 2);
  } finally {
    pool.close();
  }
});
