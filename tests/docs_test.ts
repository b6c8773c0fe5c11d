import assert from "node:assert/strict";
import { loadPlan } from "../lib/jobfile/mod.ts";
import { KINDS } from "../tasks/mod.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

Deno.test("README and CI name the Deno version pinned in .deno-version", async () => {
  const pinned = (await read(".deno-version")).trim();
  const readme = await read("README.md");
  const versions = new Set([...readme.matchAll(/deno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  assert.deepEqual([...versions], [pinned]);
  assert.match(await read(".ci/run"), /\.deno-version/);
  if (Deno.version.deno !== pinned) {
    // CI enforces the pin (.ci/run); a newcomer on another Deno gets a warning, not a red suite.
    console.warn(`warning: Deno ${Deno.version.deno} runs these tests; the project pins ${pinned}`);
  }
});

Deno.test("every example job file is valid", async () => {
  for await (const entry of Deno.readDir(new URL("examples/", root))) {
    if (!/\.(ya?ml|json)$/.test(entry.name)) continue;
    const path = new URL(`examples/${entry.name}`, root).pathname;
    const plan = await loadPlan(path, {
      kinds: KINDS,
      env: (name) => name === "TASKPOOL_DEMO_URL" ? "http://127.0.0.1:1" : Deno.env.get(name),
    });
    assert.ok(plan.jobs.length > 0, entry.name);
  }
});

Deno.test("the README's job file is valid", async () => {
  const readme = await read("README.md");
  const yaml = readme.match(/```yaml\n([\s\S]*?)```/)?.[1];
  assert.ok(yaml, "the README shows a job file");
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/jobs.yaml`;
    await Deno.writeTextFile(path, yaml);
    const plan = await loadPlan(path, { kinds: KINDS });
    assert.deepEqual(
      [...new Set(plan.jobs.map((job) => job.group))],
      ["pics", "digests", "thumbs", "note"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README and docs/ keep lines under 200 characters and the README under 400 lines", async () => {
  const readme = await read("README.md");
  assert.ok(readme.split("\n").length < 400);
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    const text = await read(`docs/${entry.name}`);
    for (const [index, line] of text.split("\n").entries()) {
      assert.ok(
        line.length <= 200,
        `docs/${entry.name}:${index + 1} has ${line.length} characters`,
      );
    }
  }
});
