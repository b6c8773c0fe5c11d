/**
 * The job file's schema built with zod: what a file that fails the quick check is checked with
 * (see `validate.ts`: zod says what is wrong, and where), and the JSON Schema
 * ({@linkcode jobFileJsonSchema}, committed at `schema/jobfile.schema.json`).
 *
 * @module
 */
import { z } from "zod";
import type { Kinds } from "../kind_definition.ts";
import { schemaFields } from "./fields.ts";
import { buildJobFileSchemas, type JobFileSchemas } from "./file_schema.ts";

export { JOB_NAME_PATTERN } from "./fields.ts";
export type { JobFile, JobFileSchemas } from "./file_schema.ts";

/** The shared fields built with zod. */
export const FIELDS = schemaFields(z);

const built = new WeakMap<Kinds, JobFileSchemas>();

/**
 * The job file's schema with `kinds`, built with zod (once per list).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KINDS } from "../../tasks/mod.ts";
 * import { jobFileSchemas } from "./schema.ts";
 * const { file } = jobFileSchemas(KINDS);
 * assert(file.safeParse({ jobs: [{ name: "hi", run: ["true"] }] }).success);
 * assert(!file.safeParse({ jobs: [{ name: "hi", sleep: 1 }] }).success);
 * ```
 */
export function jobFileSchemas(kinds: Kinds): JobFileSchemas {
  let schemas = built.get(kinds);
  if (!schemas) built.set(kinds, schemas = buildJobFileSchemas(FIELDS, kinds));
  return schemas;
}

/**
 * The JSON Schema of the job file with `kinds`, for editors and other tools.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KINDS } from "../../tasks/mod.ts";
 * import { jobFileJsonSchema } from "./schema.ts";
 * assert(jobFileJsonSchema(KINDS).required?.includes("jobs"));
 * ```
 */
export function jobFileJsonSchema(kinds: Kinds): Record<string, unknown> & { required?: string[] } {
  const { file, entry, specs } = jobFileSchemas(kinds);
  const schema = z.toJSONSchema(file, {
    io: "input",
    target: "draft-2020-12",
    override: ({ zodSchema, jsonSchema }) => {
      const at: unknown = zodSchema;
      if (at === entry) {
        jsonSchema.oneOf = kinds.map((kind) => ({ required: [kind.name] }));
      }
      for (const kind of kinds) {
        if (at === specs.get(kind.name)) kind.jsonSchema?.(jsonSchema as Record<string, unknown>);
      }
    },
  });
  // Top-level `x-` keys are the file's own (anchors to share settings): taskpool leaves them out.
  return { ...schema, patternProperties: { "^x-": {} }, title: "taskpool job file" };
}
