/**
 * Job file in, plan out: read, parse, validate, expand. Each step is its own module; this one
 * chains them and is what the CLI calls.
 *
 * @module
 */
import { expandJobFile, type PlanOverrides } from "./expand.ts";
import type { Environment } from "./interpolate.ts";
import { readJobFile } from "./load.ts";
import { parseJsonDocument } from "./json_document.ts";
import { withoutExtensions } from "./document.ts";
import { parsePlainYaml } from "./plain_yaml.ts";
import { validJobFile } from "./quick_schema.ts";
import { applySettings, blameSettings, parseSettings } from "./settings.ts";
import type { Plan } from "./job.ts";
import type { Kinds } from "../kind_definition.ts";
import { resolve } from "../util/posix_path.ts";

export type { PlanOverrides } from "./expand.ts";

/** Options for {@linkcode loadPlan}. */
export interface LoadPlanOptions {
  /** The job kinds the file may use (`KINDS` of `tasks/mod.ts`). */
  kinds: Kinds;
  /** The folder command-line paths resolve against. @default Deno.cwd() */
  cwd?: string;
  /** Where `-` reads from. @default Deno.stdin.readable */
  stdin?: ReadableStream<Uint8Array>;
  /** Where `${VAR}` values come from. @default Deno.env.get */
  env?: Environment;
  /** Command-line settings that win over the file's. */
  overrides?: PlanOverrides;
  /** What `cpu: auto` means. @default navigator.hardwareConcurrency */
  cores?: number;
  /**
   * The job file's text, when it is not read from `path` (the demo's, built in): `path` then
   * only names it in messages, and relative paths resolve against `cwd`.
   */
  text?: string;
  /** `--set key=value` settings that win over the file's. */
  settings?: readonly string[];
  /** When the run starts: fills `{date}` and `{time}` in the report path. @default new Date() */
  startedAt?: Date;
}

/**
 * Reads and checks a job file and expands it into a plan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPlan } from "./mod.ts";
 * import { KINDS } from "../../tasks/mod.ts";
 * const text = "output: out\njobs:\n  - { name: hi, run: [echo, hi], repeat: 2 }\n";
 * const stdin = new Blob([text]).stream();
 * const plan = await loadPlan("-", { kinds: KINDS, stdin, cwd: "/tmp", env: () => undefined });
 * assert(plan.jobs.map((job) => job.name).join() === "hi/1,hi/2");
 * assert(plan.output === "/tmp/out");
 * ```
 * @throws {InvalidJobFileError} listing every problem found
 * @throws {UsageError} for a malformed `--set`
 */
export async function loadPlan(path: string, options: LoadPlanOptions): Promise<Plan> {
  const { kinds, cwd = Deno.cwd(), stdin, env, overrides, cores, startedAt } = options;
  const settings = await parseSettings(options.settings ?? []);
  const source = options.text === undefined
    ? await readJobFile(path, { cwd, ...(stdin ? { stdin } : {}) })
    : { file: path, text: options.text, baseDir: cwd };
  // A well-formed JSON file, or one in plain YAML, needs no YAML parser (some 20 ms to load and
  // warm); anything else gets one, and its messages.
  const parsed = parseJsonDocument(source.text, source.file) ??
    parsePlainYaml(source.text, source.file) ??
    (await import("./parse.ts")).parseJobFileText(source.text, source.file);
  const doc = applySettings(withoutExtensions(parsed), settings);
  try {
    // A valid file needs no zod (some 45 ms to load); one that is not gets zod's messages.
    const file = validJobFile(doc, { kinds, env }) ??
      (await import("./validate.ts")).validateJobFile(doc, { kinds, ...(env ? { env } : {}) });
    return await expandJobFile(file, doc, {
      kinds,
      baseDir: source.baseDir,
      cwd,
      ...(overrides ? { overrides } : {}),
      ...(cores ? { cores } : {}),
      ...(startedAt ? { startedAt } : {}),
      ...(options.text === undefined && path !== "-" ? { jobFilePath: resolve(cwd, path) } : {}),
    });
  } catch (error) {
    throw blameSettings(error, settings);
  }
}
