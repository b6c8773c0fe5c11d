/**
 * The job file's schema: the one source of truth. It validates (see `validate.ts`), gives the
 * TypeScript types ({@linkcode JobFile}, {@linkcode JobSpec}), and is exported as JSON Schema
 * ({@linkcode jobFileJsonSchema}, committed at `schema/jobfile.schema.json`).
 *
 * Messages are phrased to follow a field path: `jobs[0].retries must be ...`.
 *
 * @module
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "../util/duration.ts";
import { parseSize, SIZE_PATTERN } from "../util/size.ts";

/** Job names: what may appear in `name` and `needs`. */
export const JOB_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

const jobName = z.string({ error: "must be a job name (a string)" }).regex(JOB_NAME_PATTERN, {
  error: "must use only letters, digits, '.', '_' and '-'",
}).max(200, { error: "must be at most 200 characters" });

const duration = z.union([
  z.number({ error: "must be a duration" }).nonnegative({ error: "must not be negative" }),
  z.string({ error: "must be a duration" }).regex(new RegExp(DURATION_PATTERN), {
    error: "must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h",
  }),
], { error: "must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h" })
  .transform(parseDuration)
  .describe("Seconds as a number, or a string like 500ms, 30s, 2m, 1h.");

const size = z.union([
  z.int({ error: "must be a size" }).nonnegative({ error: "must not be negative" }),
  z.string({ error: "must be a size" }).regex(new RegExp(SIZE_PATTERN), {
    error: "must be a size: bytes as a number, or a string like 512KiB, 10MB, 4GiB",
  }),
], { error: "must be a size: bytes as a number, or a string like 512KiB, 10MB, 4GiB" })
  .transform(parseSize)
  .describe("Bytes as a number, or a string like 512KiB, 10MB, 4GiB.");

/** HTTP header names (RFC 9110 tokens). */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headers = z.record(
  z.string(),
  z.string({ error: "must be a string" }).refine((value) => !/[\r\n\0]/.test(value), {
    error: "must not contain line breaks",
  }),
  { error: "must be a mapping of header names to strings" },
).superRefine((value, context) => {
  for (const name of Object.keys(value)) {
    if (HEADER_NAME_PATTERN.test(name)) continue;
    context.addIssue({
      code: "custom",
      path: [name],
      message: "is not an HTTP header name: use letters, digits and !#$%&'*+.^_`|~-",
      params: { aboutKey: true },
    });
  }
}).describe(
  "Request headers; ${VAR} takes a value from the environment. Secret-looking values " +
    "(Authorization, Cookie, *token*, *key*, ...) are never shown in reports or logs.",
);

const retries = z.int({ error: "must be a whole number" })
  .min(0, { error: "must be 0 or more" })
  .max(100, { error: "must be at most 100" })
  .describe("Extra attempts after a failed one.");

const httpUrl = z.string({ error: "must be a URL (a string)" }).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}, { error: "must be an http(s) URL" });

const nonEmptyPath = z.string({ error: "must be a path (a string)" }).min(1, {
  error: "must not be empty",
});

const hex = (bytes: number) =>
  z.string({ error: "must be a hex digest (a string)" }).regex(
    new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`),
    { error: `must be ${bytes * 2} hex digits` },
  ).transform((value) => value.toLowerCase());

/** Settings every job inherits unless it sets its own. */
const jobSettings = {
  retries: retries.optional(),
  timeout: duration.optional().describe("Time limit for one attempt."),
  backoff: duration.optional().describe(
    "Base delay before a retry; doubles each attempt, with full jitter (default 500ms).",
  ),
};

/** Download settings a job may set and `defaults.download` may give every download. */
const downloadSettings = {
  headers: headers.optional(),
  max_bytes: size.optional().describe("The largest file accepted (default 4GiB)."),
  idle_timeout: duration.optional().describe(
    "Fail a transfer that receives less than 1 KiB in this long (default 30s; 0 = never).",
  ),
  max_wait: duration.optional().describe(
    "The longest a server's Retry-After may delay the next attempt (default 1m).",
  ),
  record_sha256: z.boolean({ error: "must be true or false" }).optional().describe(
    "Hash every file into the report and state even with no checksum to verify " +
      "(about 0.7 ms of CPU per MiB; default false).",
  ),
};

/** One argv item: YAML reads `sleep 1` or `[true]` as numbers and booleans; they mean text. */
const argvItem = z.union([z.string(), z.number(), z.boolean()], {
  error: "must be a string",
}).transform(String);

/** `download:` one URL or a fan-out of many. */
export const DownloadSpecSchema = z.strictObject({
  url: httpUrl.optional().describe("One http(s) URL."),
  urls: z.array(httpUrl, { error: "must be a list of URLs" }).min(1, {
    error: "must list at least one URL",
  }).optional().describe("Many URLs: one job each, named <name>/<file>."),
  urls_from: nonEmptyPath.optional().describe(
    "A text file with one URL a line (# starts a comment), relative to the job file.",
  ),
  to: nonEmptyPath.optional().describe(
    "Target under output; ending in / means a folder. Defaults to the URL's file name.",
  ),
  sha256: hex(32).optional().describe("Expected SHA-256 of the file (single url only)."),
  sha512: hex(64).optional().describe("Expected SHA-512 of the file (single url only)."),
  ...downloadSettings,
}, { error: "must be a mapping with url, urls or urls_from" });

/** `true` for all, or a list that narrows it. */
const allOrList = (what: string) =>
  z.union([
    z.boolean(),
    z.array(z.string({ error: `must be a ${what} (a string)` }).min(1), {
      error: `must be true, false or a list of ${what}s`,
    }),
  ], { error: `must be true, false or a list of ${what}s` });

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

/** `compute:` a function from a TypeScript module, run on a Worker or in a host process. */
export const ComputeSpecSchema = z.strictObject({
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

/** One entry of `jobs:`. */
export const JobSpecSchema = z.strictObject({
  name: jobName.describe("Unique name: letters, digits, '.', '_', '-'."),
  needs: z.array(jobName, { error: "must be a list of job names" }).default([]).describe(
    "Jobs that must succeed before this one starts.",
  ),
  download: DownloadSpecSchema.optional(),
  compute: ComputeSpecSchema.optional(),
  run: z.array(argvItem, {
    error: "must be a command as a list of strings (argv), such as [sh, -c, 'echo hi']",
  }).min(1, { error: "must name a program" }).optional().describe(
    "A command as argv; no implicit shell.",
  ),
  cwd: nonEmptyPath.optional().describe("Working folder of a run job (default: the job file's)."),
  env: z.record(z.string(), z.string({ error: "must be a string" }), {
    error: "must be a mapping of names to strings",
  }).optional().describe(
    "Variables added to a run job's environment (${VAR} takes taskpool's); with clear_env, " +
      "its whole environment.",
  ),
  clear_env: z.boolean({ error: "must be true or false" }).optional().describe(
    "Start a run job from an empty environment: it sees env and TASKPOOL_* only (default false).",
  ),
  kill_grace: duration.optional().describe(
    "Time a run job's process group has between SIGTERM and SIGKILL on timeout or cancel (default 5s).",
  ),
  inputs: z.array(nonEmptyPath, { error: "must be a list of paths or globs" }).optional()
    .describe(
      "Files a compute or run job reads, relative to the job file (globs: *, ?, **), inside its " +
        "folder or the output. With outputs, an unchanged job (definition and inputs' content) " +
        "whose needs were cached is cached.",
    ),
  outputs: z.array(nonEmptyPath, { error: "must be a list of paths" }).optional().describe(
    "Files a compute or run job writes, relative to output ({n} in a fan-out); it fails if one " +
      "is missing after it ran, and is cached only while they all exist.",
  ),
  repeat: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
    .max(100_000, { error: "must be at most 100000" }).optional().describe(
      "Run a compute or run job N times, named <name>/1 .. <name>/N.",
    ),
  matrix: z.array(z.array(z.unknown(), { error: "must be a list of argument lists" }), {
    error: "must be a list of argument lists",
  }).min(1, { error: "must have at least one argument list" }).max(100_000, {
    error: "must have at most 100000 argument lists",
  }).optional().describe(
    "One compute or run job per argument list, named <name>/1 .. <name>/N: compute calls " +
      "fn(...args, ...list, context); run appends the list to its argv.",
  ),
  ...jobSettings,
}, { error: "must be a mapping" });

const cpuLimit = z.union([
  z.int({ error: "must be a whole number or auto" }).min(1, { error: "must be at least 1" })
    .max(1024, { error: "must be at most 1024" }),
  z.literal("auto", { error: 'must be a whole number or "auto"' }),
], { error: 'must be a whole number or "auto"' });

/** The whole job file. */
export const JobFileSchema = z.strictObject({
  $schema: z.string().optional().describe("Editor hint; ignored."),
  version: z.literal(1, { error: "must be 1 (the only version)" }).optional(),
  output: nonEmptyPath.default("downloads").describe(
    "Folder everything is written under, relative to the job file.",
  ),
  report: nonEmptyPath.optional().describe(
    "Where the JSON report goes, relative to the job file (default <output>/report.json); " +
      "{date} (2026-11-22) and {time} (031500) give each run its own report.",
  ),
  concurrency: z.strictObject({
    io: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
      .max(4096, { error: "must be at most 4096" }).default(16).describe("Downloads in flight."),
    cpu: cpuLimit.default("auto").describe("Compute and run jobs at once; auto = cores."),
    per_host: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
      .max(4096, { error: "must be at most 4096" }).default(8).describe(
        "Downloads in flight to one host (halved for a while when it answers 429).",
      ),
  }, { error: "must be a mapping with io, cpu and per_host" }).default({
    io: 16,
    cpu: "auto",
    per_host: 8,
  }),
  permissions: z.strictObject({
    net: allOrList("host").default(false).describe(
      "More hosts (host[:port]) downloads may reach, such as redirect targets; true for any.",
    ),
  }, { error: "must be a mapping with net" }).default({ net: false }).describe(
    "What the run itself may do beyond what its jobs imply (taskpool runs with only that).",
  ),
  defaults: z.strictObject({
    ...jobSettings,
    download: z.strictObject(downloadSettings, {
      error: "must be a mapping of download settings (headers, max_bytes, idle_timeout, max_wait)",
    }).default({}).describe("Settings every download inherits; its headers merge with a job's."),
  }, { error: "must be a mapping" }).default({ download: {} }),
  jobs: z.array(JobSpecSchema, { error: "must be a list of jobs" }).min(1, {
    error: "must list at least one job",
  }),
}, { error: "must be a mapping with a `jobs:` list" });

/** A validated job file, defaults applied and durations in milliseconds. */
export type JobFile = z.output<typeof JobFileSchema>;
/** A job file as written (what JSON Schema describes). */
export type JobFileInput = z.input<typeof JobFileSchema>;
/** One validated entry of `jobs:`. */
export type JobSpec = z.output<typeof JobSpecSchema>;
/** A validated `download:`. */
export type DownloadSpec = z.output<typeof DownloadSpecSchema>;
/** A validated `compute:`. */
export type ComputeSpec = z.output<typeof ComputeSpecSchema>;

/** The job kinds: exactly one key of each job names its kind. */
export const JOB_KINDS = ["download", "compute", "run"] as const;

/**
 * The JSON Schema of the job file, for editors and other tools.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobFileJsonSchema } from "./schema.ts";
 * assert(jobFileJsonSchema().required?.includes("jobs"));
 * ```
 */
export function jobFileJsonSchema(): Record<string, unknown> & { required?: string[] } {
  const schema = z.toJSONSchema(JobFileSchema, {
    io: "input",
    target: "draft-2020-12",
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === JobSpecSchema) {
        jsonSchema.oneOf = JOB_KINDS.map((kind) => ({ required: [kind] }));
      } else if (zodSchema === DownloadSpecSchema) {
        jsonSchema.oneOf = ["url", "urls", "urls_from"].map((key) => ({ required: [key] }));
      }
    },
  });
  return { ...schema, title: "taskpool job file" };
}
