import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ComputeError } from "../../../lib/pools/compute_error.ts";
import { type HostProfile, ProcessPool } from "../../../lib/pools/process/process_pool.ts";
import { tempDir } from "../../helpers/temp.ts";

const WORK = new URL("../../testdata/work.ts", import.meta.url).href;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Reads only the project (host code and the test module); nothing else. */
const PROFILE: HostProfile = { flags: [`--allow-read=${ROOT}`] };
const task = (exportName: string, args: unknown[] = []) => ({
  moduleUrl: WORK,
  exportName,
  args,
  context: { output: "/out", job: "t" },
});

Deno.test("ProcessPool reuses persistent host processes, one task at a time each", async () => {
  const pool = new ProcessPool({ size: 2 });
  try {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.run(task("add", [i, 1]), { profile: PROFILE })),
    );
    assert.deepEqual(results.map((r) => r.value), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(pool.started, 2);
    assert.equal(new Set(results.map((r) => r.pid)).size, 2);
    // Console output goes to stderr, not into the channel on stdout.
    const { value, pid } = await pool.run(task("logsAndPid"), { profile: PROFILE });
    assert.equal(value, pid);
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool: a throwing task fails with its stack and its host stays", async () => {
  const pool = new ProcessPool({ size: 1 });
  try {
    const error = await pool.run(task("throws"), { profile: PROFILE }).catch((e) => e);
    assert.ok(error instanceof ComputeError);
    assert.equal(error.message, "this job always fails");
    assert.match(error.workerStack ?? "", /testdata\/work\.ts:\d+/);
    assert.equal((await pool.run(task("add", [2, 2]), { profile: PROFILE })).value, 4);
    assert.equal(pool.started, 1);
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool kills a spinning task on timeout and serves the next on a new host", async () => {
  const pool = new ProcessPool({ size: 1 });
  try {
    const first = await pool.run(task("logsAndPid"), { profile: PROFILE });
    // The host is warm and idle: the timeout can only end the spinning task itself.
    const signal = AbortSignal.timeout(300);
    await assert.rejects(
      pool.run(task("spins"), { profile: PROFILE, signal }),
      (error: unknown) => error instanceof DOMException && error.name === "TimeoutError",
    );
    const next = await pool.run(task("logsAndPid"), { profile: PROFILE });
    assert.notEqual(next.pid, first.pid);
    assert.equal(pool.started, 2);
    assert.throws(() => Deno.kill(first.pid, "SIGCONT"), Deno.errors.NotFound); // gone
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool: Deno.exit in a task fails that task only", async () => {
  const pool = new ProcessPool({ size: 1 });
  try {
    await assert.rejects(
      pool.run(task("exits", [3]), { profile: PROFILE }),
      (error: unknown) =>
        error instanceof ComputeError && error.message === "the task called Deno.exit(3)",
    );
    assert.equal((await pool.run(task("add", [1, 1]), { profile: PROFILE })).value, 2);
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool: a task waiting on a promise nothing can settle fails saying so, and the next runs", async () => {
  const pool = new ProcessPool({ size: 1 });
  try {
    // Deno ends the host, whose event loop is empty: no timeout is needed to end the task.
    await assert.rejects(
      pool.run(task("neverSettles"), { profile: PROFILE }),
      (error: unknown) =>
        error instanceof ComputeError &&
        error.message.startsWith("the task waited on a promise nothing was left to settle"),
    );
    assert.equal((await pool.run(task("add", [1, 1]), { profile: PROFILE })).value, 2);
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool: a task that exhausts its heap cap fails as out of memory", async () => {
  const pool = new ProcessPool({ size: 1 });
  const capped: HostProfile = {
    flags: [...PROFILE.flags, "--v8-flags=--max-old-space-size=64"],
    memoryMb: 64,
  };
  try {
    await assert.rejects(
      pool.run(task("hogsMemory"), { profile: capped }),
      (error: unknown) =>
        error instanceof ComputeError &&
        error.message === "the task ran out of memory (memory: 64 MiB)",
    );
    assert.equal((await pool.run(task("add", [1, 2]), { profile: capped })).value, 3);
  } finally {
    await pool.close();
  }
});

Deno.test("ProcessPool: a task cannot read or connect beyond its host's flags", async () => {
  const pool = new ProcessPool({ size: 1 });
  await using secrets = await tempDir();
  const secret = await secrets.write("id_rsa", "");
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      pool.run(task("readsFile", [secret]), { profile: PROFILE }),
      (error: unknown) =>
        error instanceof ComputeError && /NotCapable|read access/.test(error.message),
    );
    await assert.rejects(
      pool.run(task("connects", [listener.addr.port]), { profile: PROFILE }),
      (error: unknown) => error instanceof ComputeError && /net access/.test(error.message),
    );
    const widened: HostProfile = { flags: [`--allow-read=${ROOT},${dirname(secret)}`] };
    assert.equal((await pool.run(task("readsFile", [secret]), { profile: widened })).value, "");
  } finally {
    await pool.close();
  }
});
