/**
 * One run at a time per output folder: an OS file lock (`flock`) on `<output>/.taskpool/lock`.
 * The kernel drops it when its holder dies, so a crashed or killed run never leaves a stale lock;
 * the file also records who holds it (pid, host, start, command), for the message a second run
 * prints.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import type { CodedError } from "../errors.ts";
import { onHardExit } from "../util/exit_hooks.ts";
import { sleep } from "../util/sleep.ts";
import { namingFile } from "../util/write_atomic.ts";

/**
 * Another run holds the output folder's lock (exit code 75, EX_TEMPFAIL: try again later).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LockedError } from "./run_lock.ts";
 * const owner = { pid: 7, host: "box", since: "2026-11-22T03:00:00.000Z", command: "taskpool run a.yaml" };
 * assert(new LockedError("/out", owner, 0).message.includes("pid 7 on box"));
 * ```
 */
export class LockedError extends Error implements CodedError {
  override name = "LockedError";
  readonly code = "LOCKED";
  readonly output: string;
  readonly owner: LockOwner | undefined;

  constructor(output: string, owner: LockedError["owner"], waitedMs: number) {
    const who = owner
      ? `pid ${owner.pid} on ${owner.host} (${owner.command}), since ${owner.since}`
      : "another run";
    const waited = waitedMs > 0 ? ` after waiting ${(waitedMs / 1000).toFixed(1)}s` : "";
    const advice = waitedMs > 0 ? "" : "; --wait-lock [SECONDS] waits for it";
    super(`${output} is in use by ${who}${waited}${advice}`);
    this.output = output;
    this.owner = owner;
  }
}

/** Who holds a lock, as its file records. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** What the holder is doing, such as `taskpool run jobs.yaml`. */
  command: string;
}

/** Options for {@linkcode acquireRunLock}. */
export interface AcquireRunLockOptions {
  /** What to record as the holder's command. */
  command: string;
  /** How long to wait for a held lock, in ms: 0 (the default) fails at once, Infinity waits. */
  waitMs?: number;
  /** Aborting it stops the wait with its reason. */
  signal?: AbortSignal | undefined;
  /** Time between two tries while waiting, in ms. @default 200 */
  pollMs?: number;
  /** Called once if the lock is held and we are going to wait for it. */
  onWait?: (owner: LockOwner | undefined) => void;
}

/** A held lock; disposing of it removes the file and releases the lock. */
export interface RunLock extends AsyncDisposable {
  readonly path: string;
  release(): Promise<void>;
}

/** The lock file's path for an output folder. */
export function lockFilePath(output: string): string {
  return join(output, ".taskpool", "lock");
}

/**
 * Takes the lock of `output`, waiting up to `waitMs` for a holder to finish.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acquireRunLock, LockedError } from "./run_lock.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   await using _lock = await acquireRunLock(dir, { command: "first" });
 *   const second = await acquireRunLock(dir, { command: "second" }).catch((error) => error);
 *   assert(second instanceof LockedError && second.owner?.command === "first");
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @throws {LockedError} when another run holds it past `waitMs`
 */
export async function acquireRunLock(
  output: string,
  options: AcquireRunLockOptions,
): Promise<RunLock> {
  const { command, waitMs = 0, signal, pollMs = 200, onWait } = options;
  const path = lockFilePath(output);
  Deno.mkdirSync(join(output, ".taskpool"), { recursive: true });
  const deadline = performance.now() + waitMs;
  for (let tries = 0;; tries++) {
    signal?.throwIfAborted();
    const file = tryLock(path);
    if (file) return held(path, file, command);
    if (performance.now() >= deadline) {
      throw new LockedError(output, await readOwner(path), waitMs);
    }
    if (tries === 0) onWait?.(await readOwner(path));
    await sleep(Math.min(pollMs, Math.max(0, deadline - performance.now())), { signal });
  }
}

/**
 * Opens and locks the file; undefined when another holds it. Synchronous: a handful of quick
 * calls on a local file, each of which would otherwise wait for a turn of Deno's blocking pool.
 */
function tryLock(path: string): Deno.FsFile | undefined {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  try {
    if (!file.tryLockSync(true)) {
      file.close();
      return undefined;
    }
    // The holder before us may have removed the file between our open and our lock: then we
    // locked a file no one else will open. Only the file still at `path` counts.
    const ours = file.statSync();
    let current: Deno.FileInfo | null = null;
    try {
      current = Deno.statSync(path);
    } catch { /* removed meanwhile */ }
    if (current?.ino !== ours.ino || current?.dev !== ours.dev) {
      file.close();
      return tryLock(path);
    }
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

function held(path: string, file: Deno.FsFile, command: string): RunLock {
  const owner: LockOwner = {
    pid: Deno.pid,
    host: hostName(),
    since: new Date().toISOString(),
    command,
  };
  try {
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${JSON.stringify(owner)}\n`));
  } catch (error) {
    // A full disk: nothing of the run could be saved either.
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
    file.close();
    throw namingFile(error, path);
  }
  let released = false;
  // Exiting at once (a second Ctrl-C): the kernel drops the lock; the file goes too.
  const lastWords = onHardExit(() => Deno.removeSync(path));
  const release = async () => {
    if (released) return;
    released = true;
    lastWords[Symbol.dispose]();
    // Remove first, while still holding it: a waiter that opened the old file sees it gone.
    await Deno.remove(path).catch(() => {});
    file.close();
  };
  return { path, release, [Symbol.asyncDispose]: release };
}

/** The holder a lock file names; undefined when it is empty or unreadable. */
export async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    if (typeof value?.pid === "number" && typeof value?.host === "string") return value;
  } catch {
    // Being written, or gone: the message just says less.
  }
  return undefined;
}

/** This machine's name, for the message: without `--allow-sys=hostname`, the kernel's file. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    try {
      return Deno.readTextFileSync("/proc/sys/kernel/hostname").trim();
    } catch {
      return "this host";
    }
  }
}
