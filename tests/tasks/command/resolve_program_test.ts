import assert from "node:assert/strict";
import { ProgramNotFoundError, resolveProgram } from "../../../tasks/command/process_group.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("resolveProgram finds a program on PATH, and notices when it is gone or back", async () => {
  await using dir = await tempDir();
  const name = `taskpool-probe-${crypto.randomUUID().slice(0, 8)}`;
  const path = `${dir.path}/${name}`;
  const before = Deno.env.get("PATH") ?? "";
  // Appended, so every other program still resolves as before for tests running beside this.
  Deno.env.set("PATH", `${before}:${dir.path}`);
  try {
    await Deno.writeTextFile(path, "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(resolveProgram(name), path);
    assert.equal(resolveProgram(name), path, "found again (from what it knows)");
    await Deno.remove(path);
    assert.throws(() => resolveProgram(name), ProgramNotFoundError);
    await Deno.writeTextFile(path, "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(resolveProgram(name), path);
    assert.equal(resolveProgram("./relative/tool"), "./relative/tool", "a path is used as written");
  } finally {
    Deno.env.set("PATH", before);
  }
});
