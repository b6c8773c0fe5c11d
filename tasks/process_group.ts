/**
 * Starting a program as the leader of its own process group (and session), and ending that
 * whole group: SIGTERM, then SIGKILL after a grace period.
 *
 * Deno's `detached: true` does this with a fork, whose cost grows with the parent's memory: 79
 * spawns a second from a 400 MiB process, against 670 through `setsid` (util-linux), which Deno
 * starts with a cheap `posix_spawn` and which then calls setsid(2) and execs the program under
 * the same pid. So `setsid` is used where it exists, `detached` elsewhere.
 *
 * @module
 */
import { delimiter, join } from "node:path";
import { onHardExit } from "../lib/exit_hooks.ts";

/** Where util-linux's `setsid` may live. */
const SETSID_PATHS = ["/usr/bin/setsid", "/bin/setsid"];

let setsidPath: string | null | undefined;

/** The `setsid` program, or null where there is none (then `detached` spawns are used). */
export function findSetsid(): string | null {
  if (setsidPath === undefined) setsidPath = SETSID_PATHS.find(isExecutable) ?? null;
  return setsidPath;
}

/** What {@linkcode spawnGroupLeader} starts. */
export interface GroupSpawnOptions {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Start from an empty environment instead of taskpool's. */
  clearEnv: boolean;
  stdout: "piped" | "null";
  stderr: "piped" | "null";
  /** The `setsid` to use; null for a `detached` spawn. @default findSetsid() */
  setsid?: string | null;
}

/**
 * Starts `program` with stdin closed, as the leader of a new process group whose id is the
 * returned child's pid. `program` is looked up on taskpool's PATH first (also when the child's
 * environment is cleared), so a missing program throws `Deno.errors.NotFound` here.
 *
 * @example
 * ```ts
 * import { spawnGroupLeader } from "./process_group.ts";
 * const child = spawnGroupLeader("true", {
 *   args: [], cwd: "/", env: {}, clearEnv: false, stdout: "null", stderr: "null",
 * });
 * console.assert((await child.status).success);
 * ```
 */
export function spawnGroupLeader(program: string, options: GroupSpawnOptions): Deno.ChildProcess {
  const { args, cwd, env, clearEnv, stdout, stderr, setsid = findSetsid() } = options;
  const resolved = resolveProgram(program);
  const common = { cwd, env, clearEnv, stdin: "null", stdout, stderr } as const;
  if (setsid === null) {
    return new Deno.Command(resolved, { ...common, args, detached: true }).spawn();
  }
  return new Deno.Command(setsid, { ...common, args: [resolved, ...args] }).spawn();
}

/** A program that is not on PATH. */
export class ProgramNotFoundError extends Deno.errors.NotFound {
  override name = "ProgramNotFoundError";
}

/**
 * `program` as a path: as written when it names a folder, else found on PATH.
 *
 * @throws {ProgramNotFoundError} when it is not on PATH
 */
export function resolveProgram(program: string): string {
  if (program.includes("/")) return program;
  const path = Deno.env.get("PATH") ?? "";
  const key = `${path}\0${program}`;
  // A search costs a stat per PATH folder before the one that has it; a program found once is
  // looked at again (it may have gone) rather than searched for.
  const known = foundPrograms.get(key);
  if (known !== undefined && isExecutable(known)) return known;
  for (const folder of path.split(delimiter)) {
    if (folder === "") continue;
    const candidate = join(folder, program);
    if (isExecutable(candidate)) {
      foundPrograms.set(key, candidate);
      return candidate;
    }
  }
  throw new ProgramNotFoundError(`program not found: ${program}`);
}

/** Programs found on PATH, by PATH and name. */
const foundPrograms = new Map<string, string>();

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * A process group: SIGTERM, then SIGKILL after a grace period if anything is still alive.
 * Until its leader has become a group leader (the moment between spawn and setsid(2)), the
 * signals go to the leader alone; once the leader has exited they go only to the group.
 */
export class ProcessGroup {
  readonly #pgid: number;
  readonly #graceMs: number;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #leaderExited = false;
  /** If taskpool exits at once (a second Ctrl-C), the group is killed first: none outlives it. */
  readonly #onHardExit = onHardExit(() => this.#signal("SIGKILL"));

  constructor(pgid: number, graceMs: number) {
    this.#pgid = pgid;
    this.#graceMs = graceMs;
  }

  /** Marks the leader reaped: its pid may be reused, so it is never signalled alone again. */
  leaderExited(): void {
    this.#leaderExited = true;
  }

  stop(): void {
    if (!this.#signal("SIGTERM") || this.#killTimer !== undefined) return;
    this.#killTimer = setTimeout(() => this.#signal("SIGKILL"), this.#graceMs);
  }

  dispose(): void {
    this.#onHardExit[Symbol.dispose]();
    clearTimeout(this.#killTimer);
    // Anything still alive after the job is over gets no further grace.
    if (this.#killTimer !== undefined) this.#signal("SIGKILL");
  }

  /** False when neither the group nor its leader exists. */
  #signal(signal: Deno.Signal): boolean {
    if (sendSignal(-this.#pgid, signal)) return true;
    return !this.#leaderExited && sendSignal(this.#pgid, signal);
  }
}

/** Where `kill` (procps or util-linux) may live. */
const KILL_PATHS = ["/usr/bin/kill", "/bin/kill"];

let killPath: string | null | undefined;

/** The `kill` program, or null where there is none. */
export function findKill(): string | null {
  if (killPath === undefined) killPath = KILL_PATHS.find(isExecutable) ?? null;
  return killPath;
}

let mayKill: boolean | undefined;

/**
 * Sends `signal` to `pid` (a group for a negative pid); false when there is no such process.
 * `Deno.kill` needs the right to run any program, which a run that lists its programs does not
 * have (see lib/sandbox/grants.ts): it then asks the `kill` program, which it may run.
 */
function sendSignal(pid: number, signal: Deno.Signal): boolean {
  mayKill ??= Deno.permissions.querySync({ name: "run" }).state === "granted";
  const kill = mayKill ? null : findKill();
  if (kill === null) {
    try {
      Deno.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
  const { success } = new Deno.Command(kill, {
    args: ["-s", signal.replace(/^SIG/, ""), "--", String(pid)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return success;
}
