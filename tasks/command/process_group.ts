/**
 * Starting a program as the leader of its own process group (and session), and ending that
 * whole group: SIGTERM, then SIGKILL after a grace period.
 *
 * Deno's `detached: true` does this with a fork, whose cost grows with the parent's memory,
 * while `setsid` (util-linux) is started with a cheap `posix_spawn`, then calls setsid(2) and
 * execs the program under the same pid. So `setsid` is used where it exists, `detached` elsewhere.
 *
 * @module
 */
import { delimiter, join } from "../../lib/util/posix_path.ts";
import { onHardExit } from "../../lib/util/exit_hooks.ts";
import { isExecutable } from "../../lib/util/paths.ts";
import { sendSignal, sendSignalNow, unwatchGroup, watchGroup } from "./group_signals.ts";

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
 * import assert from "node:assert/strict";
 * import { spawnGroupLeader } from "./process_group.ts";
 * const child = spawnGroupLeader("true", {
 *   args: [], cwd: "/", env: {}, clearEnv: false, stdout: "null", stderr: "null",
 * });
 * assert((await child.status).success);
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
  /** The SIGTERM on its way, once `stop()` was called. */
  #stopping: Promise<void> | undefined;
  /** If taskpool exits at once (a second Ctrl-C), the group is killed first: none outlives it. */
  readonly #onHardExit = onHardExit(() => this.#signalNow("SIGKILL"));

  constructor(pgid: number, graceMs: number) {
    this.#pgid = pgid;
    this.#graceMs = graceMs;
    watchGroup(pgid, graceMs);
  }

  /** Marks the leader reaped: its pid may be reused, so it is never signalled alone again. */
  leaderExited(): void {
    this.#leaderExited = true;
  }

  /** SIGTERM to the group now, SIGKILL after the grace period (once, however often called). */
  stop(): void {
    this.#stopping ??= this.#stop();
  }

  /** Ends the watch; whatever of a stopped group is still alive gets SIGKILL now. */
  async dispose(): Promise<void> {
    this.#onHardExit[Symbol.dispose]();
    await this.#stopping;
    if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
    // Anything still alive after the job is over gets no further grace.
    if (this.#killTimer !== undefined) await this.#signal("SIGKILL");
    unwatchGroup(this.#pgid);
  }

  async #stop() {
    if (!(await this.#signal("SIGTERM"))) return;
    this.#killTimer = setTimeout(() => void this.#signal("SIGKILL"), this.#graceMs);
  }

  /** False when neither the group nor its leader exists. */
  async #signal(signal: Deno.Signal): Promise<boolean> {
    if (await sendSignal(-this.#pgid, signal)) return true;
    return !this.#leaderExited && await sendSignal(this.#pgid, signal);
  }

  #signalNow(signal: Deno.Signal): boolean {
    if (sendSignalNow(-this.#pgid, signal)) return true;
    return !this.#leaderExited && sendSignalNow(this.#pgid, signal);
  }
}
