/**
 * The folder the user typed the command in. `deno task` runs taskpool in the folder of its
 * `deno.json` and says where the user was in `INIT_CWD`; relative paths on the command line
 * (the job file, `--output`, `--report`, `--env-file`, `--html`, `--trace`, `--rerun-failed`)
 * mean that folder, so taskpool moves back there before it resolves any of them.
 *
 * @module
 */
import { BUNDLED, filePath, ownFileUrl } from "../util/own_files.ts";

/**
 * Moves this process to the caller's folder when `deno task` has moved it to taskpool's own
 * (it then works in `INIT_CWD`); elsewhere it stays where it is. Returns the folder it is in.
 * Only the first process does this: a child started by the launcher inherits the folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { enterCallersFolder } from "./callers_folder.ts";
 * const here = Deno.cwd();
 * assert.equal(enterCallersFolder({ initCwd: undefined }), here);
 * assert.equal(enterCallersFolder({ initCwd: "/tmp", ownFolder: "/elsewhere" }), here);
 * ```
 */
export function enterCallersFolder(
  options: { initCwd?: string | undefined; ownFolder?: string } = {},
): string {
  const { initCwd = readInitCwd(), ownFolder = OWN_FOLDER } = options;
  const here = Deno.cwd();
  if (initCwd === undefined || ownFolder === undefined || here !== ownFolder) {
    return here;
  }
  Deno.chdir(initCwd);
  return Deno.cwd();
}

/** The folder of taskpool's deno.json, where `deno task` starts it; none for the bundle. */
const OWN_FOLDER = BUNDLED
  ? undefined
  : filePath(ownFileUrl("deno.json")).slice(0, -"/deno.json".length);

function readInitCwd(): string | undefined {
  try {
    return Deno.env.get("INIT_CWD") || undefined;
  } catch {
    return undefined; // no right to read the environment: not started by a task runner
  }
}
