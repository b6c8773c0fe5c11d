/**
 * A run's Worker host, started before the run asks for it. A host process takes some 200 ms from
 * its spawn to its first task (a Deno start, its modules, a thread each `new Worker()` call makes
 * its caller wait for), and a run asks for it only once it has its plan, its lock and its kinds.
 * So the child of a command line writes down the host it started ({@linkcode rememberHost}); the
 * launcher hands that record to the next child of the same command line (`TASKPOOL_EARLY_HOST`,
 * lib/sandbox/relaunch.ts), which starts the host as its first act ({@linkcode startSpareHost});
 * the pool takes it when it asks for a host with the very same arguments
 * ({@linkcode takeSpareHost}), and otherwise it is killed. Until it is sent a task, a host runs
 * only taskpool's own modules, so one started for nothing costs its start and no more.
 *
 * @module
 */
import { HOST_PREFIX, launchKey, sandboxedAs } from "../../sandbox/relaunch.ts";
import { killOnHardExit } from "../../util/exit_hooks.ts";
import { ownFileUrl } from "../../util/own_files.ts";
import { MIN_HEAP_MIB } from "../heap.ts";

/** What a host is started with, beyond its entry: what a record holds. */
export interface HostSpawn {
  /** Its `deno run` permission flags. */
  flags: string[];
  /** Its threads. */
  size: number;
  /** The heap cap of its first threads, in MiB. */
  memoryMb?: number | undefined;
}

/**
 * The only flags a record may give a host: permissions. Nothing that would load other code
 * (`--preload`, `--import-map`, `--config`) or change how Deno runs.
 */
const GRANT_FLAG = /^(--allow-(read|write|net|env|sys|run)(=[^\0]*)?|--ignore-env)$/;

/** The Worker host's entry module, as the pool starts it. */
export const HOST_ENTRY: URL = ownFileUrl("lib/pools/worker/host_main.ts");

/**
 * The `deno` arguments of a host: the same for a host started early and for the one the pool
 * asks for, which is how the pool knows it may take it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostArgs } from "./early_host.ts";
 * const args = hostArgs(new URL("file:///t/host_main.ts"), { flags: ["--allow-read=/o"], size: 2 });
 * assert.deepEqual(args, ["run", "--no-prompt", "--allow-read=/o", "file:///t/host_main.ts", "2", ""]);
 * ```
 */
export function hostArgs(entry: URL, spawn: HostSpawn): string[] {
  const { flags, size, memoryMb } = spawn;
  return ["run", "--no-prompt", ...flags, entry.href, String(size), String(memoryMb ?? "")];
}

/** Starts a host process with `args`; `stdin` and `stdout` piped for its frames. */
export function spawnHost(args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).spawn();
  killOnHardExit(child);
  return child;
}

/** The host started early, until the pool takes it or it is killed. */
let spare: { args: string[]; child: Deno.ChildProcess } | undefined;
/** The record this process was given, to write a new one only when it differs. */
let given: string | undefined;
/** A host was written down already: only a run's first is. */
let remembered = false;

/**
 * Parses a host record: undefined for one that is not well formed, or whose flags are not all
 * permissions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostRecord } from "./early_host.ts";
 * assert.deepEqual(parseHostRecord('{"flags":["--allow-read=/o"],"size":2}'), {
 *   flags: ["--allow-read=/o"], size: 2,
 * });
 * assert.equal(parseHostRecord('{"flags":["--preload=/x.ts"],"size":2}'), undefined);
 * assert.equal(parseHostRecord('{"flags":[],"size":0}'), undefined);
 * assert.equal(parseHostRecord('{"flags":[],"size":2,"memoryMb":1}'), undefined); // no thread starts
 * assert.equal(parseHostRecord("not json"), undefined);
 * ```
 */
export function parseHostRecord(text: string): HostSpawn | undefined {
  let record: { flags?: unknown; size?: unknown; memoryMb?: unknown };
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { flags, size, memoryMb } = record ?? {};
  const wellFormed = Array.isArray(flags) &&
    flags.every((flag) => typeof flag === "string" && GRANT_FLAG.test(flag)) &&
    Number.isInteger(size) && (size as number) >= 1 && (size as number) <= 1024 &&
    (memoryMb === undefined ||
      (Number.isInteger(memoryMb) && (memoryMb as number) >= MIN_HEAP_MIB));
  if (!wellFormed) return undefined;
  return {
    flags,
    size: size as number,
    ...(memoryMb === undefined ? {} : { memoryMb }),
  } as HostSpawn;
}

/**
 * Starts the host of the record `text` (this process's `TASKPOOL_EARLY_HOST`), for the pool to
 * take. Does nothing for a record that is not well formed, or where the host cannot be started.
 */
export function startSpareHost(text: string, entry: URL = HOST_ENTRY): void {
  given = text;
  const spawn = parseHostRecord(text);
  if (spawn === undefined || spare !== undefined) return;
  const args = hostArgs(entry, spawn);
  try {
    spare = { args, child: spawnHost(args) };
  } catch {
    // Not allowed to start Deno, say: the pool starts its host when it asks.
  }
}

/**
 * The host started early, if it was started with `args`; a host started with others is killed.
 * Either way there is no spare host afterwards.
 */
export function takeSpareHost(args: readonly string[]): Deno.ChildProcess | undefined {
  const found = spare;
  spare = undefined;
  if (found === undefined) return undefined;
  if (found.args.length === args.length && found.args.every((arg, i) => arg === args[i])) {
    return found.child;
  }
  kill(found.child);
  return undefined;
}

/**
 * Kills the host started early if no pool took it (a run with no job for it), and forgets the
 * record it came from, so that the next run of this command line starts none. Resolves when the
 * host has ended; nothing needs to wait for that but a test that counts processes.
 */
export async function dropSpareHost(): Promise<void> {
  const found = spare;
  spare = undefined;
  if (found === undefined) return;
  kill(found.child);
  forget();
  await found.child.status;
}

/**
 * Writes down `spawn`, the first host this process started, for the next child of this command
 * line, unless it is the record this one was given. Only in a child started by a launcher, which reads
 * the records.
 */
export function rememberHost(spawn: HostSpawn): void {
  if (remembered) return;
  remembered = true;
  const text = JSON.stringify(spawn);
  if (text === given || sandboxedAs() !== "child") return;
  try {
    localStorage.setItem(HOST_PREFIX + launchKey(Deno.args), text);
  } catch { /* no storage, or no right to read the folder: no early host next time */ }
}

function forget(): void {
  if (sandboxedAs() !== "child") return;
  try {
    localStorage.removeItem(HOST_PREFIX + launchKey(Deno.args));
  } catch { /* as above */ }
}

/** Kills a host no pool took, and lets go of its pipes. */
function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch { /* it has ended */ }
  child.stdin.close().catch(() => {});
  child.stdout.cancel().catch(() => {});
}
