/**
 * `taskpool schema`: the job file's JSON Schema on stdout.
 *
 * @module
 */
import { jobFileJsonSchema } from "../jobfile/schema.ts";
import { parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import type { Kinds } from "../kind_definition.ts";

/** Help text of `taskpool schema`. */
export const SCHEMA_HELP = `Usage: taskpool schema

Prints the JSON Schema of job files (also at schema/jobfile.schema.json), for editors.
`;

/** The schema as committed: pretty JSON with a final newline. */
export function schemaText(kinds: Kinds): string {
  return `${JSON.stringify(jobFileJsonSchema(kinds), null, 2)}\n`;
}

/** Runs `taskpool schema`. */
export function schemaCommand(args: string[], io: CliIo, kinds: Kinds): Promise<number> {
  parseCommandArgs(args, {});
  io.stdout(schemaText(kinds));
  return Promise.resolve(0);
}
