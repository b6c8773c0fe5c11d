import assert from "node:assert/strict";
import { acquireRunLock } from "../../lib/run/run_lock.ts";
import { tempDir } from "../helpers/temp.ts";

Deno.test("acquireRunLock() takes over a lock file whose owner is gone", async () => {
  await using dir = await tempDir();
  // What a run killed with SIGKILL leaves: the file, but no lock held on it.
  await dir.write(".taskpool/lock", '{"pid":999999,"host":"gone","since":"x","command":"old"}\n');
  await using lock = await acquireRunLock(dir.path, { command: "new" });
  const owner = JSON.parse(await Deno.readTextFile(lock.path));
  assert.equal(owner.pid, Deno.pid);
  assert.equal(owner.command, "new");
});

Deno.test("acquireRunLock() waits for the holder to release, and stops waiting when aborted", async () => {
  await using dir = await tempDir();
  const held = await acquireRunLock(dir.path, { command: "first" });
  let waitedFor: string | undefined;
  const waiting = acquireRunLock(dir.path, {
    command: "second",
    waitMs: Infinity,
    pollMs: 5,
    onWait: (owner) => {
      waitedFor = owner?.command;
      void held.release();
    },
  });
  await using second = await waiting;
  assert.equal(waitedFor, "first");
  assert.equal(JSON.parse(await Deno.readTextFile(second.path)).command, "second");

  const controller = new AbortController();
  const third = acquireRunLock(dir.path, {
    command: "third",
    waitMs: Infinity,
    pollMs: 5,
    signal: controller.signal,
    onWait: () => controller.abort(new Error("gave up")),
  });
  await assert.rejects(third, /gave up/);
});
