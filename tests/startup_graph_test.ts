/**
 * What the common commands load, read from Deno's own module graph (`deno info --json`): no
 * `node:` module (the first one a process imports starts Deno's Node compatibility layer, some
 * 20 ms), no zod and no YAML parser on the path of a run (launcher and child) or of `validate`
 * (a YAML job file loads the parser when it is read; a JSON one never does). Speed itself is
 * the benchmark's business (`deno task bench startup`); this guards the shape that gives it.
 */
import assert from "node:assert/strict";

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

const root = new URL("../", import.meta.url);

/** The modules each of these loads before it runs, following static imports only. */
const ENTRIES = [
  "main.ts", // every command
  "lib/cli/run.ts", // run: the launcher and the child
  "lib/cli/validate.ts",
  "lib/jobfile/mod.ts", // the launcher: loading a job file
  "lib/jobfile/interpolate.ts",
  "lib/cli/settings_flags.ts",
  "lib/cli/selection_flags.ts",
  "tasks/mod.ts", // the kinds' definitions
  "lib/cli/execute.ts", // the child: the run
  "tasks/command/command_kind.ts", // each kind a plan has jobs of
  "tasks/download/download_kind.ts",
];

Deno.test("no node: module, no zod and no YAML parser on the path of run and validate", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert(success, "deno info failed");
  const graph: { modules: GraphModule[] } = JSON.parse(new TextDecoder().decode(stdout));
  const modules = new Map(graph.modules.map((module) => [module.specifier, module]));
  const staticImports = (specifier: string) =>
    (modules.get(specifier)?.dependencies ?? [])
      .filter((dependency) => dependency.code && !dependency.isDynamic)
      .map((dependency) => dependency.code!.specifier);

  // Each module reached, with the chain that reached it, for the message.
  const reached = new Map<string, string[]>();
  const queue = ENTRIES.map((path) => [new URL(path, root).href]);
  for (let chain = queue.shift(); chain; chain = queue.shift()) {
    const specifier = chain.at(-1)!;
    if (reached.has(specifier)) continue;
    reached.set(specifier, chain);
    for (const next of staticImports(specifier)) queue.push([...chain, next]);
  }
  assert(reached.size > 50, `only ${reached.size} modules reached: is the graph read right?`);
  const offending = [...reached].filter(([specifier]) =>
    specifier.startsWith("node:") || /^npm:\/?(zod|yaml)@/.test(specifier) ||
    specifier.endsWith("/lib/jobfile/yaml.ts")
  );
  assert.deepEqual(
    offending.map(([, chain]) =>
      chain.map((specifier) => specifier.replace(root.href, "")).join(" -> ")
    ),
    [],
  );
});
