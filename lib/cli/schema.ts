/**
 * `taskpool schema`: the job file's JSON Schema on stdout.
 *
 * @module
 */
import { jobFileJsonSchema } from "../jobfile/schema.ts";
import { parseCommandArgs } from "./args.ts";
import type { CliIo } from "./io.ts";

/** Help text of `taskpool schema`. */
export const SCHEMA_HELP = `Usage: taskpool schema

Prints the JSON Schema of job files (also at schema/jobfile.schema.json), for editors.
`;

/** The schema as committed: pretty JSON with a final newline. */
export function schemaText(): string {
  return `${JSON.stringify(jobFileJsonSchema(), null, 2)}\n`;
}

/** Runs `taskpool schema`. */
export function schemaCommand(args: string[], io: CliIo): Promise<number> {
  parseCommandArgs("schema", args, {});
  io.stdout(schemaText());
  return Promise.resolve(0);
}
