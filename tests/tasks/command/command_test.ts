import assert from "node:assert/strict";
import { CommandFailedError } from "../../../tasks/command/errors.ts";
import type { RunJob } from "../../../tasks/command/job.ts";
import { createCommandKind } from "../../../tasks/command/command_kind.ts";
import { findSetsid } from "../../../tasks/command/process_group.ts";
import { isRunning, survivorsOf } from "../../helpers/processes.ts";
import { tempDir } from "../../helpers/temp.ts";

function runJob(argv: [string, ...string[]], output: string, extra: Partial<RunJob> = {}): RunJob {
  return {
    kind: "run",
    name: "cmd",
    group: "cmd",
    needs: [],
    retries: 0,
    timeoutMs: undefined,
    backoffMs: 0,
    source: undefined,
    argv,
    cwd: output,
    env: {},
    clearEnv: false,
    logPath: `${output}/logs/cmd.log`,
    ...extra,
  };
}

Deno.test("command run() saves stdout and stderr to the log, with job env and closed stdin", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path });
  const script = 'echo "out $TASKPOOL_JOB $GREETING"; echo err >&2; cat; echo "cwd $(pwd)"';
  const result = await kind.run(
    runJob(["sh", "-c", script], dir.path, { env: { GREETING: "hi" } }),
    { signal: new AbortController().signal, attempt: 1 },
  );
  assert.equal(result.exitCode, 0);
  const log = await Deno.readTextFile(`${dir.path}/logs/cmd.log`);
  assert.match(log, /^out cmd hi$/m);
  assert.match(log, /^err$/m);
  assert.match(log, new RegExp(`^cwd ${await Deno.realPath(dir.path)}$`, "m"));
});

Deno.test("command run() with clearEnv gives only the job's env and TASKPOOL_*", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path });
  // `env` itself is found on taskpool's PATH, though the command gets none.
  await kind.run(
    runJob(["env"], dir.path, { env: { GREETING: "hi" }, clearEnv: true }),
    { signal: new AbortController().signal, attempt: 1 },
  );
  const lines = (await Deno.readTextFile(`${dir.path}/logs/cmd.log`)).trim().split("\n").sort();
  assert.deepEqual(lines, ["GREETING=hi", "TASKPOOL_JOB=cmd", `TASKPOOL_OUTPUT=${dir.path}`]);
});

Deno.test("command run() caps the log and says how much it did not keep", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path, logMaxBytes: 1000 });
  // 100,000 bytes of "y\n" on stdout: 100 times the cap.
  const result = await kind.run(runJob(["sh", "-c", "yes | head -c 100000"], dir.path), {
    signal: new AbortController().signal,
    attempt: 1,
  });
  assert.equal(result.exitCode, 0);
  const log = await Deno.readTextFile(`${dir.path}/logs/cmd.log`);
  assert.equal(log.slice(0, 1000), "y\n".repeat(500));
  assert.equal(log.slice(1000), "\n[taskpool: log cut at 1000 bytes; 99000 more not kept]\n");
});

Deno.test("command run() fails a non-zero exit with the code and the end of stderr", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path });
  const error = await kind.run(
    runJob(["sh", "-c", "echo first >&2; echo 'disk full' >&2; exit 3"], dir.path),
    { signal: new AbortController().signal, attempt: 1 },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof CommandFailedError);
  assert.equal(error.exitCode, 3);
  assert.equal(error.message, "sh exited with code 3: first | disk full");
});

Deno.test("command run() reports a program that does not exist", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path });
  await assert.rejects(
    kind.run(runJob(["no-such-program-xyz"], dir.path), {
      signal: new AbortController().signal,
      attempt: 1,
    }),
    /no-such-program-xyz exited with code 127: program not found/,
  );
});

Deno.test("command run() says when its working folder is missing or a file, not that the program is", async () => {
  await using dir = await tempDir();
  const kind = createCommandKind({ output: dir.path });
  await assert.rejects(
    kind.run(runJob(["true"], dir.path, { cwd: `${dir.path}/missing` }), {
      signal: new AbortController().signal,
      attempt: 1,
    }),
    /true exited with code 127: working folder does not exist: .*\/missing/,
  );
  const file = await dir.write("notes.txt", "a file, not a folder\n");
  await assert.rejects(
    kind.run(runJob(["true"], dir.path, { cwd: file }), {
      signal: new AbortController().signal,
      attempt: 1,
    }),
    /true exited with code 127: working folder is not a folder: .*\/notes\.txt/,
  );
});

// Both ways of starting a group leader: through setsid(1) where it exists, else a detached spawn.
for (const [how, setsid] of [["via setsid", findSetsid()], ["detached", null]] as const) {
  if (how === "via setsid" && setsid === null) continue;

  Deno.test(`command run() ${how}: a program the system cannot start fails naming it, with code 126`, async () => {
    await using dir = await tempDir();
    const kind = createCommandKind({ output: dir.path, setsid });
    // An argument over the system's limit (E2BIG): it was told as setsid's failure to spawn.
    const error = await kind.run(runJob(["echo", "x".repeat(3_000_000)], dir.path), {
      signal: new AbortController().signal,
      attempt: 1,
    }).catch((error) => error);
    assert.ok(error instanceof CommandFailedError, String(error));
    assert.equal(error.exitCode, 126);
    assert.match(
      error.message,
      /^echo exited with code 126: cannot start echo: Argument list too long/,
    );
  });

  Deno.test(`command run() ${how}: a script that cannot start says why: its rights, or its #! line`, async () => {
    await using dir = await tempDir();
    const kind = createCommandKind({ output: dir.path, setsid });
    const fails = async (argv: [string, ...string[]]) => {
      const error = await kind.run(runJob(argv, dir.path), {
        signal: new AbortController().signal,
        attempt: 1,
      }).catch((error) => error);
      assert.ok(error instanceof CommandFailedError, String(error));
      return error;
    };
    const windows = await dir.write("windows.sh", "#!/bin/sh\r\necho hi\r\n");
    const nowhere = await dir.write("nowhere.sh", "#! /opt/no/such/shell -e\necho hi\n");
    const plain = await dir.write("plain.sh", "#!/bin/sh\necho hi\n");
    await Deno.chmod(windows, 0o755);
    await Deno.chmod(nowhere, 0o755);
    await Deno.chmod(plain, 0o644);
    assert.match(
      (await fails(["./windows.sh"])).message,
      /^\.\/windows\.sh exited with code 127: cannot start \.\/windows\.sh: its #! interpreter "\/bin\/sh\\r" does not exist \(the script has Windows line endings\)$/,
    );
    assert.match(
      (await fails(["./nowhere.sh"])).message,
      /: cannot start \.\/nowhere\.sh: its #! interpreter "\/opt\/no\/such\/shell" does not exist$/,
    );
    const denied = await fails(["./plain.sh"]);
    assert.equal(denied.exitCode, 126);
    assert.match(denied.message, /: cannot start \.\/plain\.sh: Permission denied/);
    assert.doesNotMatch(denied.message, /setsid/);
  });

  Deno.test(`command run() ${how}: on abort kills the whole process group, grandchildren included`, async () => {
    await using dir = await tempDir();
    // The job's kill_grace wins over the kind's (which would keep this test waiting 10 minutes).
    const kind = createCommandKind({ output: dir.path, killGraceMs: 600_000, setsid });
    const controller = new AbortController();
    const pidFile = `${dir.path}/grandchild.pid`;
    // The grandchild writes its pid, then both wait; the leader ignores SIGTERM.
    const script = `sleep 100 & echo $! > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; ` +
      `trap '' TERM; echo ready; wait`;
    const run = kind.run(runJob(["sh", "-c", script], dir.path, { killGraceMs: 200 }), {
      signal: controller.signal,
      attempt: 1,
    });
    const watcher = Deno.watchFs(dir.path);
    try {
      for await (const _ of watcher) {
        if (await Deno.stat(pidFile).then(() => true, () => false)) break;
      }
    } finally {
      watcher.close();
    }
    const grandchild = Number((await Deno.readTextFile(pidFile)).trim());
    assert.ok(isRunning(grandchild), `grandchild ${grandchild} should run before the abort`);
    controller.abort(new DOMException("timed out", "TimeoutError"));
    await assert.rejects(run, (e: DOMException) => e.name === "TimeoutError");
    assert.deepEqual(
      await survivorsOf([grandchild]),
      [],
      "the grandchild must not survive the job",
    );
  });

  Deno.test(`command run() ${how}: ends background processes left behind by a finished command`, async () => {
    await using dir = await tempDir();
    const kind = createCommandKind({ output: dir.path, killGraceMs: 200, setsid });
    const result = await kind.run(
      runJob(["sh", "-c", `sleep 100 & echo $! > ${dir.path}/bg.pid`], dir.path),
      { signal: new AbortController().signal, attempt: 1 },
    );
    assert.equal(result.exitCode, 0);
    const pid = Number((await Deno.readTextFile(`${dir.path}/bg.pid`)).trim());
    assert.deepEqual(await survivorsOf([pid]), [], "the background sleep must not survive the job");
  });

  Deno.test(`command run() ${how}: the command leads its own process group`, async () => {
    await using dir = await tempDir();
    const kind = createCommandKind({ output: dir.path, setsid });
    const result = await kind.run(
      runJob(["sh", "-c", "echo $$ $(ps -o pgid= -p $$)"], dir.path),
      { signal: new AbortController().signal, attempt: 1 },
    );
    const [pid, pgid] = (await Deno.readTextFile(`${dir.path}/logs/cmd.log`)).trim().split(/\s+/);
    assert.equal(Number(pid), result.pid);
    assert.equal(pgid, pid);
  });
}
