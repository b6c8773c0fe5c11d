import assert from "node:assert/strict";
import { ComputeError } from "../../../lib/pools/compute_error.ts";
import { WorkerPool } from "../../../lib/pools/worker/worker_pool.ts";
import { tempDir } from "../../helpers/temp.ts";
import { testProfile, testTask as task, WORK } from "../../helpers/worker_profiles.ts";
import { RUNNER_FILES } from "../../../lib/pools/worker/runner_files.ts";
import { dirname } from "../../../lib/util/posix_path.ts";

const NARROW = testProfile();
/** NARROW plus loopback, for the tasks that say they started by connecting. */
const LOOPBACK = testProfile({ net: ["127.0.0.1"] });
const profile = { profile: NARROW };

Deno.test("WorkerPool.run() reuses persistent threads up to its size, in one host", async () => {
  const pool = new WorkerPool({ size: 2 });
  try {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.run(task("add", [i, 1]), profile)),
    );
    assert.deepEqual(results.map((r) => r.value), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(pool.started, 2);
    assert.deepEqual(new Set(results.map((r) => r.workerId)), new Set([1, 2]));
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

for (const inProcess of [false, true]) {
  const where = inProcess ? "threads in this process" : "a host process";
  Deno.test(`WorkerPool.prestart() starts a profile's host (${where}) before its first task, if there is room`, async () => {
    const pool = new WorkerPool({ size: 2 });
    const first = testProfile({ inProcess });
    try {
      assert.equal(pool.prestart(first), true, "room for one more host");
      assert.equal(pool.hostsStarted, 1);
      assert.equal(pool.prestart(first), true, "active already: nothing new");
      assert.equal(pool.hostsStarted, 1);
      assert.equal(pool.prestart(testProfile({ read: ["/tmp"], inProcess })), false, "now full");
      assert.equal(pool.hostsStarted, 2);
      assert.equal(pool.prestart(testProfile({ read: ["/var"], inProcess })), false);
      assert.equal(pool.hostsStarted, 2, "no room: nothing started");
      assert.equal((await pool.run(task("add", [1, 2]), { profile: first })).value, 3);
      assert.equal(pool.hostsStarted, 2, "the task ran on the host started for it");
    } finally {
      await pool.close();
    }
  });
}

Deno.test("WorkerPool.run() passes the context last and calls the default export", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    assert.equal((await pool.run(task("default", ["pool"]), profile)).value, "hello pool");
    assert.deepEqual((await pool.run(task("context", [1]), profile)).value, {
      output: "/out",
      job: "t",
    });
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run() rejects a throwing job with its stack, and the thread stays", async () => {
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

Deno.test("WorkerPool.run() rejects missing exports and results without a JSON form", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(
      pool.run(task("notAFunction"), profile),
      /work\.ts exports "notAFunction" as a number, not a function$/,
    );
    await assert.rejects(
      pool.run(task("ad"), profile),
      /work\.ts has no exported function "ad" \(it exports "add", "awaitsByte", .*, \.\.\.\)$/,
    );
    await assert.rejects(pool.run(task("notJson"), profile), /the result has no JSON form/);
    await assert.rejects(
      pool.run({ ...task("add"), args: [() => 1] }, profile),
      /arguments cannot be sent to a Worker/,
    );
  } finally {
    await pool.close();
  }
});

/** A loopback listener a task connects to when it has started. */
function startSignal(): { port: number; started: () => Promise<void>; [Symbol.dispose](): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    port: listener.addr.port,
    started: async () => (await listener.accept()).close(),
    [Symbol.dispose]: () => listener.close(),
  };
}

for (const exportName of ["hangs", "spinsAfter"]) {
  Deno.test(`WorkerPool.run() abandons an aborted job (${exportName}) and serves the queue`, async () => {
    const pool = new WorkerPool({ size: 1 });
    using signal = startSignal();
    try {
      const controller = new AbortController();
      const stuck = pool.run(task(exportName, [signal.port]), {
        profile: LOOPBACK,
        signal: controller.signal,
      });
      const queued = pool.run(task("add", [1, 1]), profile);
      await signal.started();
      controller.abort(new DOMException("too slow", "TimeoutError"));
      await assert.rejects(stuck, (e: DOMException) => e.name === "TimeoutError");
      assert.equal((await queued).value, 2);
      // A new host ran the queue; the stuck thread's host (a busy loop included) was killed.
      assert.equal(pool.hostsStarted, 2);
      assert.equal(pool.hostsAlive, 1);
    } finally {
      await pool.close();
    }
  });
}

Deno.test("WorkerPool.run() never lets a job aborted as it was sent hold the pool", async () => {
  const pool = new WorkerPool({ size: 1 });
  using signal = startSignal();
  try {
    const controller = new AbortController();
    const stuck = pool.run(task("spinsAfter", [signal.port]), {
      profile: LOOPBACK,
      signal: controller.signal,
    });
    // One turn of the event loop: the task is on its way, its fate in the host not known yet.
    // Either the cancel reaches the host first and the task never begins, or the host has begun
    // it and says so too late: then it spins, and only a fresh host can serve the pool.
    await new Promise((resolve) => setTimeout(resolve));
    controller.abort(new Error("cancelled"));
    await assert.rejects(stuck, /cancelled/);
    const fresh = await pool.run(task("add", [2, 3]), {
      profile: LOOPBACK,
      signal: AbortSignal.timeout(20_000), // a deadline, should the pool be held
    });
    assert.equal(fresh.value, 5);
    assert.equal(pool.hostsAlive, 1, "a host that began the task was killed");
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run() lets the other jobs of a drained host finish there", async () => {
  const pool = new WorkerPool({ size: 2 });
  using signal = startSignal();
  using release = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const controller = new AbortController();
    const stuck = pool.run(task("spinsAfter", [signal.port]), {
      profile: LOOPBACK,
      signal: controller.signal,
    });
    // Runs beside it on the same host, and answers only when sent a byte.
    const innocent = pool.run(task("awaitsByte", [release.addr.port]), { profile: LOOPBACK });
    await signal.started();
    using connection = await release.accept();
    controller.abort(new Error("cancelled"));
    await assert.rejects(stuck, /cancelled/);
    const fresh = await pool.run(task("add", [2, 3]), profile);
    assert.equal(fresh.value, 5);
    assert.equal(pool.hostsStarted, 2);
    assert.equal(pool.hostsAlive, 2, "the old host drains while its other job runs");
    await connection.write(new Uint8Array([42]));
    assert.equal((await innocent).value, 42);
    assert.equal(pool.hostsAlive, 1, "then it is killed, its spinning thread with it");
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run() drops a job aborted while it waits, without touching a thread", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    const controller = new AbortController();
    const waiting = pool.run(task("add", [1, 1]), { ...profile, signal: controller.signal });
    controller.abort(new Error("cancelled"));
    await assert.rejects(waiting, /cancelled/);
    assert.equal((await pool.run(task("add", [2, 3]), profile)).value, 5);
    assert.equal(pool.started, 1);
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run() fails the job of a thread that dies, exits or runs out of heap, and serves the next", async () => {
  const pool = new WorkerPool({ size: 1 });
  try {
    await assert.rejects(
      pool.run(task("dies"), profile),
      /^ComputeError: the Worker died: .*uncaught in a timer .*work\.ts:\d+/,
    );
    await assert.rejects(
      pool.run(task("exits", [7]), profile),
      /^ComputeError: the task called Deno\.exit\(7\)$/,
    );
    await assert.rejects(
      pool.run(task("hogsMemory"), { profile: { ...NARROW, memoryMb: 64 } }),
      /^ComputeError: the task ran out of memory \(memory: 64 MiB\)$/,
    );
    // A web Worker (no heap cap) ends with no event: the runner tells its host itself.
    await assert.rejects(
      pool.run(task("exitsThroughProcess", [3]), profile),
      /^ComputeError: the task called Deno\.exit\(3\)$/,
    );
    await assert.rejects(
      pool.run(task("closes"), profile),
      /^ComputeError: the Worker died: the task called close\(\)$/,
    );
    // A node:worker_threads thread (a heap cap) is reported twice, by its runner and by its exit
    // event: the job fails once, with the runner's reason.
    await assert.rejects(
      pool.run(task("exits", [5]), { profile: { ...NARROW, memoryMb: 128 } }),
      /^ComputeError: the task called Deno\.exit\(5\)$/,
    );
    const results = await Promise.all([
      pool.run(task("add", [1, 2]), profile),
      pool.run(task("add", [3, 4]), profile),
    ]);
    assert.deepEqual(results.map((r) => r.value), [3, 7]);
    // Each death cost a thread, never the host.
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

for (const inProcess of [false, true]) {
  const where = inProcess ? "in this process (isolation thread)" : "in a host process";
  Deno.test(`WorkerPool.run() gives each thread only its profile's permissions, ${where}`, async () => {
    await using secrets = await tempDir();
    const secret = await secrets.write("id_rsa", "private\n");
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const pool = new WorkerPool({ size: 1 });
    try {
      const narrow = { profile: testProfile({ inProcess }) };
      await assert.rejects(pool.run(task("readsFile", [secret]), narrow), /read access to/);
      await assert.rejects(
        pool.run(task("connects", [listener.addr.port]), narrow),
        /net access to "127\.0\.0\.1:\d+"/,
      );
      const port = listener.addr.port;
      const widened = {
        profile: testProfile({ inProcess, read: [secrets.path], net: [`127.0.0.1:${port}`] }),
      };
      assert.equal((await pool.run(task("readsFile", [secret]), widened)).value, "private\n");
      assert.equal((await pool.run(task("connects", [port]), widened)).value, "connected");
    } finally {
      await pool.close();
    }
  });
}

Deno.test("WorkerPool.run() with tasks queued ahead in the host starts them in order, each when it begins", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 4 });
  try {
    const events: string[] = [];
    const runs = Array.from(
      { length: 8 },
      (_, i) =>
        pool.run(task("add", [i, 0]), { ...profile, onStart: () => events.push(`start ${i}`) })
          .then(({ value }) => events.push(`done ${value}`)),
    );
    await Promise.all(runs);
    const starts = events.filter((e) => e.startsWith("start"));
    assert.deepEqual(starts, Array.from({ length: 8 }, (_, i) => `start ${i}`), "in order");
    // One thread: a task begins only once the one before it has answered (that reply carries
    // the next start, so "start i" may be told just before "done i-1").
    for (let i = 0; i < 8; i++) {
      assert.ok(events.indexOf(`start ${i}`) < events.indexOf(`done ${i}`));
      if (i > 0) assert.ok(events.indexOf(`done ${i - 1}`) <= events.indexOf(`start ${i}`) + 1);
    }
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

for (const exportName of ["hangs", "spinsAfter"]) {
  Deno.test(`WorkerPool.run() moves the tasks queued behind an aborted one (${exportName}) to a fresh host`, async () => {
    const pool = new WorkerPool({ size: 1, aheadPerThread: 4 });
    using signal = startSignal();
    try {
      const stuckController = new AbortController();
      const stuck = pool.run(task(exportName, [signal.port]), {
        profile: LOOPBACK,
        signal: stuckController.signal,
      });
      // Same rights, so queued in the same host behind the stuck task.
      const startedTasks: number[] = [];
      const droppedController = new AbortController();
      const dropped = pool.run(task("add", [0, 0]), {
        profile: LOOPBACK,
        signal: droppedController.signal,
        onStart: () => startedTasks.push(0),
      });
      const queued = [1, 2, 3].map((i) =>
        pool.run(task("add", [i, 10]), { profile: LOOPBACK, onStart: () => startedTasks.push(i) })
      );
      await signal.started();
      droppedController.abort(new Error("dropped"));
      await assert.rejects(dropped, /dropped/);
      stuckController.abort(new DOMException("too slow", "TimeoutError"));
      await assert.rejects(stuck, (e: DOMException) => e.name === "TimeoutError");
      assert.deepEqual((await Promise.all(queued)).map((r) => r.value), [11, 12, 13]);
      assert.deepEqual(startedTasks, [1, 2, 3], "the dropped task never began");
      assert.equal(pool.hostsStarted, 2);
      assert.equal(pool.hostsAlive, 1, "the stuck host was killed");
    } finally {
      await pool.close();
    }
  });
}

Deno.test("WorkerPool.run(): tasks queued in a thread behind a long one are taken by an idle thread", async () => {
  const pool = new WorkerPool({ size: 2, aheadPerThread: 16 });
  using release = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    // First in, so the first thread holds it, with tiny tasks queued behind it in that thread.
    const long = pool.run(task("awaitsByte", [release.addr.port]), { profile: LOOPBACK });
    const tiny = Array.from({ length: 30 }, (_, i) =>
      pool.run(task("add", [i, 1]), {
        profile: LOOPBACK,
        signal: AbortSignal.timeout(20_000), // a deadline, should a task wait for the long one
      }));
    using connection = await release.accept();
    const results = await Promise.all(tiny);
    assert.deepEqual(results.map((r) => r.value), Array.from({ length: 30 }, (_, i) => i + 1));
    await connection.write(new Uint8Array([7]));
    const { value, workerId } = await long;
    assert.equal(value, 7);
    assert.ok(results.some((r) => r.workerId !== workerId), "the other thread ran the tiny tasks");
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): a task cancelled while queued in a thread never begins, and its host stays", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 4 });
  using release = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const started: string[] = [];
    const long = pool.run(task("awaitsByte", [release.addr.port]), { profile: LOOPBACK });
    const controller = new AbortController();
    const dropped = pool.run(task("add", [0, 0]), {
      profile: LOOPBACK,
      signal: controller.signal,
      onStart: () => started.push("dropped"),
    });
    const after = pool.run(task("add", [1, 1]), {
      profile: LOOPBACK,
      onStart: () => started.push("after"),
    });
    using connection = await release.accept();
    controller.abort(new Error("dropped"));
    await assert.rejects(dropped, /dropped/);
    // The long task runs on until its host has given the dropped one back: no race between the
    // cancel and the byte that ends the long task.
    while (pool.inHosts > 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await connection.write(new Uint8Array([1]));
    assert.equal((await long).value, 1);
    assert.equal((await after).value, 2);
    assert.deepEqual(started, ["after"]);
    assert.equal(pool.hostsStarted, 1, "nothing stuck: no fresh host");
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): the tasks queued behind one that ends its thread run on its replacement", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 4 });
  try {
    const exits = pool.run(task("exits", [3]), profile);
    const queued = [1, 2, 3].map((i) => pool.run(task("add", [i, i]), profile));
    await assert.rejects(exits, /^ComputeError: the task called Deno\.exit\(3\)$/);
    const results = await Promise.all(queued);
    assert.deepEqual(results.map((r) => r.value), [2, 4, 6]);
    assert.ok(results.every((r) => r.workerId === 2), "all on the replacement thread");
    assert.equal(pool.hostsStarted, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): a reply is not held back by a task stuck after it on its thread", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 8 });
  using signal = startSignal();
  try {
    const events: string[] = [];
    // All sent at once, so the thread holds them all and never runs low enough to call its
    // host: the first reply is read from its ring while the thread spins in the next task.
    const first = pool.run(task("add", [1, 1]), {
      profile: LOOPBACK,
      signal: AbortSignal.timeout(20_000), // a deadline, should the reply be held back
    });
    const stuckController = new AbortController();
    const stuck = pool.run(task("spinsAfter", [signal.port]), {
      profile: LOOPBACK,
      signal: stuckController.signal,
      onStart: () => events.push("stuck started"),
    });
    const queued = [1, 2, 3, 4, 5, 6].map((i) =>
      pool.run(task("add", [i, 10]), { profile: LOOPBACK })
    );
    await signal.started();
    assert.equal((await first).value, 2);
    assert.deepEqual(events, ["stuck started"], "its start came with the reply before it");
    stuckController.abort(new DOMException("too slow", "TimeoutError"));
    await assert.rejects(stuck, (e: DOMException) => e.name === "TimeoutError");
    assert.deepEqual((await Promise.all(queued)).map((r) => r.value), [11, 12, 13, 14, 15, 16]);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): the replies a thread wrote before it ended are kept", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 4 });
  try {
    // Sent together: the thread answers the first in its ring, without calling its host, and
    // ends in the second; the host reads the ring when it sees the thread end.
    const first = pool.run(task("add", [2, 3]), profile);
    const exits = pool.run(task("exits", [4]), profile);
    await assert.rejects(exits, /the task called Deno\.exit\(4\)$/);
    assert.equal((await first).value, 5);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): replies too big for the ring, and bytes, come back beside small ones", async () => {
  const pool = new WorkerPool({ size: 1, aheadPerThread: 8 });
  try {
    const starts: number[] = [];
    const run = (exportName: string, args: unknown[], i: number) =>
      pool.run(task(exportName, args), { ...profile, onStart: () => starts.push(i) });
    const results = await Promise.all([
      run("add", [1, 1], 0),
      run("letters", [200_000], 1), // posted: over the ring's largest record
      run("add", [2, 2], 2),
      run("bytes", [300], 3), // posted: bytes do not go through the ring
      run("add", [3, 3], 4),
    ]);
    assert.equal(results[0]!.value, 2);
    assert.equal(results[1]!.value, "ab".repeat(100_000));
    assert.equal(results[2]!.value, 4);
    assert.deepEqual(results[3]!.value, Uint8Array.from({ length: 300 }, (_, i) => i % 256));
    assert.equal(results[4]!.value, 6);
    assert.deepEqual(starts, [0, 1, 2, 3, 4]);
  } finally {
    await pool.close();
  }
});

Deno.test("WorkerPool.run(): a host whose threads cannot start fails their tasks with why, and does not start threads for ever", async () => {
  // A profile that may read the runner's entries but not the modules they import: no thread of
  // its host can load its runner. Its tasks used to wait for a thread that never came, while the
  // host started one after another, each dying at once.
  const entries = RUNNER_FILES.filter((file) => /_runner\.ts$/.test(file));
  const broken = { flags: [`--allow-read=${[dirname(new URL(WORK).pathname), ...entries]}`] };
  const pool = new WorkerPool({ size: 2 });
  try {
    // A deadline, so that a pool that never answers fails here rather than hangs the suite.
    const signal = AbortSignal.timeout(60_000);
    const failures = await Promise.allSettled(
      Array.from(
        { length: 3 },
        (_, i) => pool.run(task("add", [i, 1]), { profile: broken, signal }),
      ),
    );
    for (const failure of failures) {
      assert.equal(failure.status, "rejected");
      assert.match(String(failure.reason), /^ComputeError: the Worker died: .*read access/);
    }
    // A profile whose threads can start is served as before.
    assert.equal((await pool.run(task("add", [2, 3]), profile)).value, 5);
  } finally {
    await pool.close();
  }
});
