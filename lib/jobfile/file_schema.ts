/**
 * The job file's schema: the one source of truth, composed of the keys every job file and every
 * job entry has, and each kind's part (its key, its entry fields, its `defaults`). It is built
 * from the shared fields it is handed ({@linkcode buildJobFileSchemas}): with zod (`schema.ts`),
 * which says what is wrong and gives the JSON Schema, or with the quick checker a valid file
 * passes without loading zod (`quick_schema.ts`).
 *
 * Messages are phrased to follow a field path: `jobs[0].retries must be ...`.
 *
 * @module
 */
import type { z as Zod } from "zod";
import type { JobEntry, Kinds } from "../kind_definition.ts";
import type { SchemaFields } from "./fields.ts";

/** Settings every job inherits unless it sets its own. */
const jobSettingsOf = ({ retries, duration }: SchemaFields) => ({
  retries: retries.optional(),
  timeout: duration.optional().describe("Time limit for one attempt."),
  backoff: duration.optional().describe(
    "Base delay before a retry; doubles each attempt, with full jitter (default 500ms).",
  ),
});

/** The keys of a job entry that decide when and how often its jobs run, whatever the kind. */
const entryFanOutAndFilesOf = ({ z, nonEmptyPath }: SchemaFields) => ({
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
});

const cpuLimitOf = ({ z }: SchemaFields) =>
  z.union([
    z.int({ error: "must be a whole number or auto" }).min(1, { error: "must be at least 1" })
      .max(1024, { error: "must be at most 1024" }),
    z.literal("auto", { error: 'must be a whole number or "auto"' }),
  ], { error: 'must be a whole number or "auto"' });

/** The job file's schemas for one list of kinds. */
export interface JobFileSchemas {
  /** The whole file. */
  file: Zod.ZodType<JobFile>;
  /** One entry of `jobs:`. */
  entry: Zod.ZodType;
  /** Each kind's `spec`, built. */
  specs: ReadonlyMap<string, Zod.ZodType>;
}

/**
 * The job file's schema with `kinds`, built from `fields` (and the `z` they carry).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { KINDS } from "../../tasks/mod.ts";
 * import { schemaFields } from "./fields.ts";
 * import { buildJobFileSchemas } from "./file_schema.ts";
 * const { file } = buildJobFileSchemas(schemaFields(z), KINDS);
 * assert(file.safeParse({ jobs: [{ name: "hi", run: ["true"] }] }).success);
 * assert(!file.safeParse({ jobs: [{ name: "hi", sleep: 1 }] }).success);
 * ```
 */
export function buildJobFileSchemas(fields: SchemaFields, kinds: Kinds): JobFileSchemas {
  const { z, jobName, nonEmptyPath, rate, duration, allOrList } = fields;
  const jobSettings = jobSettingsOf(fields);
  const cpuLimit = cpuLimitOf(fields);
  const specs = new Map<string, Zod.ZodType>();
  const kindKeys: Record<string, Zod.ZodType> = {};
  for (const kind of kinds) {
    const spec = kind.spec(fields);
    specs.set(kind.name, spec);
    // Described on the optional wrapper, where an entry's other keys carry theirs.
    const { description } = spec;
    kindKeys[kind.name] = description === undefined
      ? spec.optional()
      : spec.optional().describe(description);
    for (const [key, schema] of Object.entries(kind.entryFields?.(fields) ?? {})) {
      kindKeys[key] = schema;
    }
  }
  const kindDefaults: Record<string, Zod.ZodType> = {};
  for (const kind of kinds) if (kind.defaults) kindDefaults[kind.name] = kind.defaults(fields);
  const entry = z.strictObject({
    name: jobName.describe("Unique name: letters, digits, '.', '_', '-'."),
    needs: z.array(jobName, { error: "must be a list of job names" }).default([]).describe(
      "Jobs that must succeed before this one starts.",
    ),
    ...kindKeys,
    ...entryFanOutAndFilesOf(fields),
    ...jobSettings,
  }, { error: "must be a mapping" });
  const file = z.strictObject({
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
      bandwidth: rate.optional().describe(
        "The most all downloads together receive a second, such as 4MiB/s (default no limit).",
      ),
      per_host_bandwidth: rate.optional().describe(
        "The most the downloads from one host receive a second (default no limit).",
      ),
      per_host_interval: duration.optional().describe(
        "The least time between the starts of two requests to one host, such as 200ms, also " +
          "across retries and redirects (default 0).",
      ),
    }, {
      error: "must be a mapping with io, cpu, per_host, bandwidth, per_host_bandwidth and " +
        "per_host_interval",
    }).default({
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
    tls: z.strictObject({
      ca: z.array(nonEmptyPath, { error: "must be a list of PEM files" }).min(1, {
        error: "must list at least one PEM file",
      }).describe(
        "Certificate authorities (PEM files, relative to the job file) to trust besides the " +
          "system's, for servers with a private CA.",
      ),
    }, { error: "must be a mapping with ca" }).optional().describe(
      "TLS settings of the run's downloads (DENO_CERT is honoured too).",
    ),
    defaults: z.strictObject({ ...jobSettings, ...kindDefaults }, { error: "must be a mapping" })
      .default(Object.fromEntries(Object.keys(kindDefaults).map((name) => [name, {}]))),
    jobs: z.array(entry, { error: "must be a list of jobs" }).min(1, {
      error: "must list at least one job",
    }),
  }, { error: "must be a mapping with a `jobs:` list" }) as unknown as Zod.ZodType<JobFile>;
  return { file, entry, specs };
}

/** A validated job file, defaults applied and durations in milliseconds. */
export interface JobFile {
  $schema?: string | undefined;
  version?: 1 | undefined;
  output: string;
  report?: string | undefined;
  concurrency: {
    io: number;
    cpu: number | "auto";
    per_host: number;
    bandwidth?: number | undefined;
    per_host_bandwidth?: number | undefined;
    per_host_interval?: number | undefined;
  };
  tls?: { ca: string[] } | undefined;
  permissions: { net: boolean | string[] };
  /** `retries`, `timeout` and `backoff` for every job, and each kind's defaults by its name. */
  defaults: {
    retries?: number | undefined;
    timeout?: number | undefined;
    backoff?: number | undefined;
    readonly [kind: string]: unknown;
  };
  jobs: JobEntry[];
}
