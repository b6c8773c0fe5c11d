/**
 * The shape of a subcommand: `prepare` reads the arguments, loads and checks the job file and
 * expands it (everything that can fail with exit 2), then `execute` does the work. Between the
 * two, `main.ts` decides where the work happens: a command that runs jobs says what rights they
 * need, and `main.ts` may start it again in a child Deno that has only those.
 *
 * @module
 */
import type { Kinds } from "../kind_definition.ts";
import type { Grants } from "../sandbox/grant_flags.ts";
import type { CliIo } from "./io.ts";

/** A command whose arguments and job file are checked, ready to run. */
export interface Prepared {
  /**
   * The rights its jobs need, for a command that runs jobs: the work may then happen in a child
   * Deno with only these. Absent for a command that runs no job.
   */
  grants?(): Grants;
  /**
   * What a child started for the work needs from this preparation, so that it prepares nothing
   * again: structured-cloneable data, given back to the child's `prepare` as `handoff`.
   */
  handoff?: unknown;
  /** How many jobs the work runs, when it runs a plan: a child for many is set up for memory. */
  jobs?: number;
  /**
   * The kinds of the jobs the work runs, when it runs a plan: a child started for it loads only
   * these. @default every kind
   */
  kinds?: readonly string[];
  /** Does the work in this process; resolves with the exit code. */
  execute(): Promise<number>;
}

/** One subcommand of taskpool. */
export interface Command {
  /** Its `--help` text. */
  help: string;
  /**
   * Checks its arguments and job file; see the module doc. In a child started for the work,
   * `handoff` is what the launcher's `prepare` handed over.
   */
  prepare(args: string[], io: CliIo, kinds: Kinds, handoff?: unknown): Promise<Prepared>;
}

/** A command that runs no job: all its work happens where it is called. */
export function inProcess(
  help: string,
  run: (args: string[], io: CliIo, kinds: Kinds) => Promise<number>,
): Command {
  return {
    help,
    prepare: (args, io, kinds) => Promise.resolve({ execute: () => run(args, io, kinds) }),
  };
}
