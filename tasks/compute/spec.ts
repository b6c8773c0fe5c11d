/**
 * The compute kind's part of the job file: `compute:`, built from the fields the job file's
 * schema hands in (see `SchemaPart` in lib/kind_definition.ts).
 *
 * @module
 */
import type { z } from "zod";
import type { SchemaFields } from "../../lib/jobfile/fields.ts";

/** `compute:` a function from a TypeScript module, run on a Worker or in a host process. */
export function computeSpec(fields: SchemaFields) {
  const { z, allOrList, nonEmptyPath, size } = fields;
  /** What a compute job may do beyond reading its module's folder and writing the output. */
  const PermissionsSchema = z.strictObject({
    read: z.array(nonEmptyPath, { error: "must be a list of paths" }).default([]).describe(
      "More paths it may read, relative to the job file.",
    ),
    write: z.array(nonEmptyPath, { error: "must be a list of paths" }).default([]).describe(
      "More paths it may write, relative to the job file.",
    ),
    net: allOrList("host").default(false).describe("Network access: true, or hosts (host[:port])."),
    env: allOrList("variable name").default(false).describe(
      "Environment access: true, or variable names.",
    ),
  }, { error: "must be a mapping with read, write, net and env" });

  return z.strictObject({
    module: nonEmptyPath.describe(
      "A module path relative to the job file, or builtin:<name> (count, sha256).",
    ),
    export: z.string({ error: "must be an export name (a string)" }).min(1).default("default")
      .describe("The exported function to call."),
    args: z.array(z.unknown(), { error: "must be a list" }).default([]).describe(
      "Arguments, structured-cloned; the function is called as fn(...args, context).",
    ),
    isolation: z.enum(["worker", "process", "thread"], {
      error: 'must be "worker", "process" or "thread"',
    }).optional().describe(
      "worker (default): a Worker thread in a supervised host process; process: a persistent " +
        "deno host process, one task at a time; thread: a Worker thread in taskpool's own " +
        "process, the quickest for many tiny jobs, for trusted code: no memory cap, and a thread " +
        "that runs out of heap ends the run.",
    ),
    memory: size.optional().describe(
      "Heap cap, such as 512MiB: of the job's thread (worker) or host process (process); not " +
        "with isolation thread.",
    ),
    permissions: PermissionsSchema.optional().describe(
      "Rights beyond reading the module's folder and the output and writing the output.",
    ),
    to: nonEmptyPath.optional().describe(
      "Where a Uint8Array result is written, under output, instead of the report; {n} is the " +
        "job's number in a repeat or matrix fan-out.",
    ),
  }, { error: "must be a mapping with module, export and args" });
}

/** A validated `compute:`. */
export type ComputeSpec = z.output<ReturnType<typeof computeSpec>>;
