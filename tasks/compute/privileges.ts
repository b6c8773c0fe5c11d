/**
 * The least privileges of a compute job: read its module's folder and the output folder, write
 * the output folder, and nothing more (no net, no env, no run, no ffi, no sys) unless the job's
 * `permissions:` grant it; `memory:` becomes the heap cap: of the process in
 * {@linkcode hostProfile}, of each thread in {@linkcode workerProfile}.
 *
 * @module
 */
import { filePath, ownFileUrl } from "../../lib/util/own_files.ts";
import { dirname } from "../../lib/util/posix_path.ts";
import type { ComputeJob } from "./job.ts";
import { withRealPaths } from "../../lib/util/paths.ts";
import type { HostProfile } from "../../lib/pools/process/process_pool.ts";
import type { WorkerProfile } from "../../lib/pools/worker/worker_pool.ts";
import { RUNNER_FILES } from "../../lib/pools/worker/runner_files.ts";

type PrivilegedJob = Pick<ComputeJob, "moduleUrl" | "memoryMb" | "permissions">;

/**
 * The host profile for `job`, whose output folder is `output`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostProfile } from "./privileges.ts";
 * const profile = hostProfile({
 *   moduleUrl: "file:///jobs/work.ts",
 *   memoryMb: 256,
 *   permissions: { read: [], write: [], net: ["127.0.0.1:8000"], env: false },
 * }, "/out");
 * assert(profile.flags.includes("--allow-net=127.0.0.1:8000"));
 * ```
 *
 * @throws {RangeError} for a path with a comma, which a permission flag cannot carry
 */
export function hostProfile(job: PrivilegedJob, output: string): HostProfile {
  const { memoryMb } = job;
  const flags = permissionFlags(job, output);
  if (memoryMb !== undefined) flags.push(`--v8-flags=--max-old-space-size=${memoryMb}`);
  return { flags, ...(memoryMb !== undefined ? { memoryMb } : {}) };
}

/**
 * The Worker profile for `job`, whose output folder is `output`: the same permissions for the
 * threads' host process, which may also read the runner thread's two files; `memory:` caps each
 * thread's heap.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerProfile } from "./privileges.ts";
 * const profile = workerProfile({
 *   moduleUrl: "file:///jobs/work.ts",
 *   memoryMb: 256,
 *   permissions: { read: [], write: [], net: false, env: ["HOME"] },
 * }, "/out");
 * assert(profile.flags.includes("--allow-env=HOME") && profile.memoryMb === 256);
 * ```
 */
export function workerProfile(job: PrivilegedJob, output: string): WorkerProfile {
  const { memoryMb } = job;
  return { flags: permissionFlags(job, output, RUNNER_FILES), ...(memoryMb ? { memoryMb } : {}) };
}

/**
 * The profile for `job` with `isolation: thread`: the Worker profile's permissions, as Worker
 * options for threads in taskpool's own process (no heap cap there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threadProfile } from "./privileges.ts";
 * const profile = threadProfile({
 *   moduleUrl: "file:///jobs/work.ts",
 *   memoryMb: undefined,
 *   permissions: { read: [], write: [], net: false, env: ["HOME"] },
 * }, "/out");
 * assert(profile.permissions?.net === false);
 * assert(JSON.stringify(profile.permissions?.env) === '["HOME"]');
 * ```
 */
export function threadProfile(job: PrivilegedJob, output: string): WorkerProfile {
  const { permissions } = job;
  const { read, write } = paths(job, output);
  return {
    flags: permissionFlags(job, output, RUNNER_FILES),
    permissions: {
      read: withRealPaths([...read, ...RUNNER_FILES]),
      write: withRealPaths(write),
      net: permissions.net,
      env: permissions.env,
      run: false,
      ffi: false,
      sys: false,
      import: false,
    },
  };
}

function permissionFlags(
  job: PrivilegedJob,
  output: string,
  alsoRead: readonly string[] = [],
): string[] {
  const { permissions } = job;
  const { read, write } = paths(job, output);
  const flags = [
    list("--allow-read", withRealPaths([...read, ...alsoRead])),
    list("--allow-write", withRealPaths(write)),
  ];
  if (permissions.net !== false) flags.push(grant("--allow-net", permissions.net));
  if (permissions.env !== false) flags.push(grant("--allow-env", permissions.env));
  // A variable not granted reads as unset (Deno's --ignore-env) rather than failing the task:
  // packages look up LOG_TOKENS, LOG_STREAM, DEBUG, ... at import, one after another.
  if (permissions.env !== true) flags.push("--ignore-env");
  return flags;
}

function paths(job: PrivilegedJob, output: string): { read: string[]; write: string[] } {
  const read = [...new Set([moduleFolder(job.moduleUrl), output, ...job.permissions.read])];
  const write = [...new Set([output, ...job.permissions.write])];
  return { read, write };
}

/** taskpool's own source tree: what a built-in (our code) may read, for its imports. */
const OWN_SOURCE = filePath(ownFileUrl(""));
const BUILTINS = ownFileUrl("tasks/compute/builtin/").href;

/**
 * Module folders found so far, by module URL: a plan of thousands of jobs names a few modules,
 * and parsing the URL of each job's was most of the time the launcher spent on grants.
 */
const folders = new Map<string, string>();

/** The folder a compute module may read: its own, or taskpool's source for a built-in. */
export function moduleFolder(moduleUrl: string): string {
  let folder = folders.get(moduleUrl);
  if (folder !== undefined) return folder;
  folder = moduleUrl.startsWith(BUILTINS)
    ? OWN_SOURCE.replace(/\/$/, "")
    : dirname(filePath(moduleUrl));
  if (folders.size >= 1000) folders.clear();
  folders.set(moduleUrl, folder);
  return folder;
}

function grant(flag: string, value: true | string[]): string {
  return value === true ? flag : list(flag, value);
}

function list(flag: string, items: string[]): string {
  for (const item of items) {
    if (item.includes(",")) {
      throw new RangeError(`${flag} cannot carry a path with a comma: ${item}`);
    }
  }
  return `${flag}=${[...new Set(items)].join(",")}`;
}

/** Deno's words for a right a task lacked, with the flag it names (which a job cannot pass). */
const MISSING_RIGHT =
  /Requires (read|write|net|env|run|sys) access to "([^"]*)"(?:, run again with the --allow-\w+ flag)?/;

/**
 * `error` with a hint where Deno says a task lacked a right: the job's `permissions:` grant it,
 * not the `--allow-*` flag Deno names. Of the same class, with its stack; other errors as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withPermissionHint } from "./privileges.ts";
 * const error = withPermissionHint(new Error(
 *   'Requires env access to "LOG_TOKENS", run again with the --allow-env flag',
 * )) as Error;
 * assert.equal(
 *   error.message,
 *   'Requires env access to "LOG_TOKENS": a compute job gets only its module\'s folder and the ' +
 *     "output; grant more in the job's permissions, such as permissions: { env: [LOG_TOKENS] }",
 * );
 * ```
 */
export function withPermissionHint(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const missing = MISSING_RIGHT.exec(error.message);
  if (!missing) return error;
  const [said, right, what] = missing;
  const grantable = right === "read" || right === "write" || right === "net" || right === "env";
  const hint = `Requires ${right} access to "${what}": a compute job gets only its module's ` +
    (grantable
      ? `folder and the output; grant more in the job's permissions, such as ` +
        `permissions: { ${right}: [${what}] }`
      : `folder and the output, and never ${right} (a command does that: a run: job)`);
  const hinted = Object.create(Object.getPrototypeOf(error)) as Error;
  Object.assign(hinted, error);
  Object.defineProperty(hinted, "message", {
    value: error.message.replace(said, hint),
    writable: true,
    configurable: true,
  });
  Object.defineProperty(hinted, "stack", {
    value: error.stack,
    writable: true,
    configurable: true,
  });
  return hinted;
}
