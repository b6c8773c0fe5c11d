/**
 * What the common commands load, read from Deno's own module graph (`deno info --json`): no
 * `node:` module (the first one a process imports starts Deno's Node compatibility layer, some
 * 20 ms), no zod and no YAML parser on the path of a run (launcher and child) or of `validate`
 * (a YAML job file loads the parser when it is read; a JSON one never does). Speed itself is
 * the benchmark's business (`deno task bench startup`); this guards the shape that gives it. And
 * the child that runs a plan the launcher checked loads none of what only the launcher needs.
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
  "tasks/mod.ts", // the kinds' definitions, each loaded by the registry
  "tasks/download/mod.ts",
  "tasks/compute/mod.ts",
  "tasks/command/mod.ts",
  "lib/cli/execute.ts", // the child: the run
  "tasks/command/command_kind.ts", // each kind a plan has jobs of
  "tasks/download/download_kind.ts",
];

/**
 * Deno's module graph of `program` (main.ts, or a Worker's entry), and each module reached from
 * `entries` by static imports.
 */
async function staticGraph(entries: string[], program = "main.ts"): Promise<Map<string, string[]>> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", program],
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
  const queue = entries.map((path) => [new URL(path, root).href]);
  for (let chain = queue.shift(); chain; chain = queue.shift()) {
    const specifier = chain.at(-1)!;
    if (reached.has(specifier)) continue;
    reached.set(specifier, chain);
    for (const next of staticImports(specifier)) queue.push([...chain, next]);
  }
  return reached;
}

/** The chains that reach a module `matches` takes, as paths. */
function chainsTo(reached: Map<string, string[]>, matches: (specifier: string) => boolean) {
  return [...reached].filter(([specifier]) => matches(specifier)).map(([, chain]) =>
    chain.map((specifier) => specifier.replace(root.href, "")).join(" -> ")
  );
}

Deno.test("no node: module, no zod and no YAML parser on the path of run and validate", async () => {
  const reached = await staticGraph(ENTRIES);
  assert(reached.size > 50, `only ${reached.size} modules reached: is the graph read right?`);
  assert.deepEqual(
    chainsTo(
      reached,
      (specifier) =>
        specifier.startsWith("node:") || /^npm:\/?(zod|yaml)@/.test(specifier) ||
        specifier.endsWith("/lib/jobfile/yaml.ts"),
    ),
    [],
  );
});

/** What only the launcher does: read, check and select the job file, and work out the grants. */
const LAUNCHER_ONLY = [
  "lib/jobfile/mod.ts",
  "lib/jobfile/plain_yaml.ts",
  "lib/jobfile/json_document.ts",
  "lib/jobfile/quick_schema.ts",
  "lib/jobfile/env_file.ts",
  "lib/sandbox/grants.ts",
  "lib/run/selection.ts",
  "lib/run/shards.ts",
];

/** What the child of a run of command jobs loads: the run, and the one kind of its jobs. */
const COMMAND_RUN = [
  "main.ts",
  "lib/cli/run.ts",
  "tasks/registry.ts",
  "lib/cli/execute.ts",
  "tasks/command/mod.ts",
  "tasks/command/command_kind.ts",
];

Deno.test("the child that runs a plan loads none of the launcher's modules before it runs", async () => {
  const reached = await staticGraph(COMMAND_RUN);
  assert(reached.size > 50, `only ${reached.size} modules reached: is the graph read right?`);
  const launcherOnly = new Set(LAUNCHER_ONLY.map((path) => new URL(path, root).href));
  assert.deepEqual(chainsTo(reached, (specifier) => launcherOnly.has(specifier)), []);
});

Deno.test("the child of a run of commands loads nothing of the other kinds", async () => {
  const reached = await staticGraph(COMMAND_RUN);
  const otherKinds = ["tasks/download/", "tasks/compute/"].map((path) => new URL(path, root).href);
  assert.deepEqual(
    chainsTo(reached, (specifier) => otherKinds.some((folder) => specifier.startsWith(folder))),
    [],
  );
});

Deno.test("a runner thread may read the files it loads: RUNNER_FILES is its static graph", async () => {
  const { RUNNER_ENTRIES, RUNNER_FILES } = await import("../lib/pools/worker/runner_files.ts");
  const own = new Set<string>();
  for (const entry of RUNNER_ENTRIES) {
    for (const specifier of (await staticGraph([entry], entry)).keys()) {
      if (specifier.startsWith(root.href)) own.add(new URL(specifier).pathname);
    }
  }
  assert.deepEqual([...own].toSorted(), RUNNER_FILES.toSorted());
});
