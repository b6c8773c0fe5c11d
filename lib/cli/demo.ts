/**
 * `taskpool demo`: the classic experiment on this machine with no network. It starts the
 * built-in album server on 127.0.0.1, runs examples/demo.yaml against it, prints the summary
 * and leaves the files and the report on disk.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { startAlbumServer } from "../demo/album_server.ts";
import { UsageError } from "../errors.ts";
import { loadPlan } from "../jobfile/mod.ts";
import { parseCommandArgs, positiveInteger } from "./args.ts";
import { executePlan } from "./execute.ts";
import type { CliIo } from "./io.ts";

/** The demo job file, shipped with the code. */
export const DEMO_JOB_FILE = fileURLToPath(new URL("../../examples/demo.yaml", import.meta.url));

/** Help text of `taskpool demo`. */
export const DEMO_HELP = `Usage: taskpool demo [--output DIR] [--latency MS] [--cpu N] [--json]

Serves a synthetic album (24 images of 50-300 KB, 80 ms latency each) on 127.0.0.1, runs
examples/demo.yaml against it and prints the summary. Files and report go to ./demo-output.
`;

/** Runs `taskpool demo`; resolves with the exit code. */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs("demo", args, {
    output: { type: "string", short: "o" },
    latency: { type: "string" },
    cpu: { type: "string" },
    quiet: { type: "boolean", short: "q" },
    json: { type: "boolean" },
  });
  if (values.latency !== undefined && !/^\d+$/.test(values.latency)) {
    throw new UsageError(
      `--latency must be a whole number of milliseconds: got "${values.latency}"`,
    );
  }
  await using album = startAlbumServer({ latencyMs: Number(values.latency ?? 80) });
  io.stderr(`taskpool demo: album of ${album.images.length} images at ${album.url}/album/\n`);
  const plan = await loadPlan(DEMO_JOB_FILE, {
    env: (name) => name === "TASKPOOL_DEMO_URL" ? album.url : Deno.env.get(name),
    overrides: {
      output: values.output ?? "demo-output",
      cpu: positiveInteger("--cpu", values.cpu),
    },
  });
  return await executePlan(plan, io, {
    quiet: values.quiet ?? false,
    json: values.json ?? false,
  });
}
