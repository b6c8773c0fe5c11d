/**
 * The run's permissions for a plan and the command line that made it: what the plan implies
 * (lib/sandbox/grants.ts), plus the files the flags read (`--env-file`, `--rerun-failed`) or
 * write (`--trace`, `--html`) and the variables the job file asked for.
 *
 * @module
 */
import { dirname, resolve } from "../util/posix_path.ts";
import { filePath, ownFileUrl } from "../util/own_files.ts";
import type { Plan } from "../jobfile/job.ts";
import type { Kinds } from "../kind_definition.ts";
import { runGrants } from "../sandbox/grants.ts";
import type { Grants } from "../sandbox/grant_flags.ts";
import type { FlagSettings } from "./settings_flags.ts";

/** The flags that name files. */
export interface FileFlags {
  "rerun-failed"?: string | undefined;
  trace?: string | undefined;
  html?: string | undefined;
}

/** The grants of a run of `plan` (of `kinds`), started with `values` and `settings` from its flags. */
export function grantsFor(
  kinds: Kinds,
  plan: Plan,
  values: FileFlags,
  settings?: Pick<FlagSettings, "envNames" | "envFiles">,
): Grants {
  const rerun = values["rerun-failed"];
  return runGrants(kinds, plan, {
    envNames: settings?.envNames ?? [],
    reads: [
      ...settings?.envFiles ?? [],
      ...(rerun ? [resolve(rerun)] : []),
      // taskpool's own modules: the run loads each as it needs it (lazy-dynamic-imports).
      dirname(filePath(ownFileUrl("main.ts"))),
    ],
    writes: [values.trace, values.html].map((path) => path && resolve(path)),
  });
}
