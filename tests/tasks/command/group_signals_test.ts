/**
 * Signals under a narrow `--allow-run` (as `deno task run` gives): they go through the one
 * long-lived shell, not `Deno.kill`, which is refused there.
 */
import assert from "node:assert/strict";
import { findShell } from "../../../tasks/command/group_signals.ts";
import { findSetsid } from "../../../tasks/command/process_group.ts";
import { withRealPaths } from "../../../lib/util/paths.ts";
import { tempDir } from "../../helpers/temp.ts";

const MODULE = new URL("../../../tasks/command/group_signals.ts", import.meta.url).href;

Deno.test("sendSignal without Deno.kill: signals a group through the shell, says false for none, and lets the process end", async () => {
  const setsid = findSetsid();
  const shell = findShell();
  assert.ok(setsid && shell, "this test needs setsid and sh");
  await using dir = await tempDir();
  const script = await dir.write(
    "signal.ts",
    [
      `import { sendSignal } from "${MODULE}";`,
      // The group exists once setsid has run, which the shell it then starts says.
      `const child = new Deno.Command("${setsid}", {`,
      `  args: ["${shell}", "-c", "echo ready; exec sleep 100"], stdout: "piped",`,
      `}).spawn();`,
      `const reader = child.stdout.getReader();`,
      `await reader.read();`,
      `await reader.cancel();`,
      `const sent = await sendSignal(-child.pid, "SIGTERM");`,
      `const none = await sendSignal(-2147483, "SIGTERM");`,
      `const { signal } = await child.status;`,
      `let refused = false;`,
      `try { Deno.kill(-child.pid, "SIGTERM"); } catch (e) { refused = e instanceof Deno.errors.NotCapable; }`,
      `console.log(JSON.stringify({ sent, none, signal, refused }));`,
    ].join("\n"),
  );
  const run = withRealPaths([setsid!, shell!, "/usr/bin/sleep", "/bin/sleep"]).join(",");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", `--allow-run=${run}`, script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000), // a process kept alive by the shell fails, not hangs
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  // It ends by itself: the shell, idle, holds nothing open that keeps the process alive.
  assert.equal(output.code, 0, stderr);
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.deepEqual(result, { sent: true, none: false, signal: "SIGTERM", refused: true });
});
