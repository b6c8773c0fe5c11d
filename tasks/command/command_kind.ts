/**
 * Run jobs: start a program without a shell, in its own process group (see process_group.ts),
 * with stdin closed and stdout+stderr saved to the job's log, up to a size cap. On timeout or
 * cancel the whole group gets SIGTERM, then SIGKILL after a grace period, so grandchildren do not
 * outlive the job.
 *
 * @module
 */
import { dirname, resolve } from "../../lib/util/posix_path.ts";
import { namingFile } from "../../lib/util/write_atomic.ts";
import { CommandFailedError } from "./errors.ts";
import type { CommandResult, RunJob } from "./job.ts";
import {
  findSetsid,
  ProcessGroup,
  ProgramNotFoundError,
  resolveProgram,
  spawnGroupLeader,
} from "./process_group.ts";
import type { JobKind } from "../../lib/scheduler/kind.ts";

/** How long a process group has between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** The largest log a command may write; the rest is counted, not kept. */
export const LOG_MAX_BYTES = 16 * 2 ** 20;
/** Deno's message when a spawn fails, and the system's reason in it. */
const SPAWN_FAILED = /^Failed to spawn '[^']*': (.*)$/s;

/** What setsid(1) writes, and nothing else, when it cannot exec the program; and why. */
const EXEC_FAILED = /^setsid: failed to execute .*: ([^\n]+)\n?$/s;

/** Why `program` could not start, as the system said (`reason`), or as its `#!` line shows. */
async function cannotStart(program: string, cwd: string, reason: string): Promise<string> {
  const said = /No such file or directory/.test(reason)
    ? await missingInterpreter(program, cwd)
    : undefined;
  return said ?? `cannot start ${program}: ${reason}`;
}

/**
 * What is missing when a program that is there cannot start for "No such file or directory": a
 * script whose `#!` names an interpreter that does not exist (a `\r` in it: the script has
 * Windows line endings). Undefined for anything else.
 */
async function missingInterpreter(program: string, cwd: string): Promise<string | undefined> {
  let head: string;
  try {
    const path = program.includes("/") ? resolve(cwd, program) : resolveProgram(program);
    using file = await Deno.open(path);
    const bytes = new Uint8Array(256);
    head = new TextDecoder().decode(bytes.subarray(0, (await file.read(bytes)) ?? 0));
  } catch {
    return undefined; // not there, or not readable
  }
  if (!head.startsWith("#!")) return undefined;
  const interpreter = head.slice(2).split("\n")[0]!.replace(/^[ \t]+/, "").split(/[ \t]/)[0]!;
  const crlf = interpreter.endsWith("\r") ? " (the script has Windows line endings)" : "";
  return `cannot start ${program}: its #! interpreter ${
    JSON.stringify(interpreter)
  } does not exist${crlf}`;
}

/** How much of stderr's end is kept for the error message. */
const STDERR_TAIL_BYTES = 2_048;

/** Options for {@linkcode createCommandKind}. */
export interface CommandKindOptions {
  /** Absolute output folder, given to the command as TASKPOOL_OUTPUT. */
  output: string;
  /** Time between SIGTERM and SIGKILL, unless a job sets `kill_grace`. @default KILL_GRACE_MS */
  killGraceMs?: number;
  /** The largest log a command may write. @default LOG_MAX_BYTES */
  logMaxBytes?: number;
  /** The `setsid` program, or null for `detached` spawns. @default findSetsid() */
  setsid?: string | null;
}

/** The run kind. */
export function createCommandKind(
  options: CommandKindOptions,
): JobKind<RunJob, CommandResult> {
  const { output, killGraceMs = KILL_GRACE_MS, logMaxBytes = LOG_MAX_BYTES } = options;
  const setsid = options.setsid === undefined ? findSetsid() : options.setsid;
  /** Log folders made in this run: each is made once, not once per job. */
  const logFolders = new Set<string>();
  return {
    pool: "cpu",
    async run(job, { signal }) {
      signal.throwIfAborted();
      using log = await openLog(job.logPath, logFolders);
      const [program, ...args] = job.argv;
      let child: Deno.ChildProcess;
      try {
        child = spawnGroupLeader(program, {
          args,
          cwd: job.cwd,
          env: { ...job.env, TASKPOOL_OUTPUT: output, TASKPOOL_JOB: job.name },
          clearEnv: job.clearEnv,
          stdout: "piped",
          stderr: "piped",
          setsid,
        });
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          // A program looked up on PATH and not there says so. Otherwise the spawn's NotFound
          // may be the working folder: say which it was.
          const cwd = await Deno.stat(job.cwd).catch(() => undefined);
          const programMissing = error instanceof ProgramNotFoundError || cwd?.isDirectory;
          throw new CommandFailedError(program, {
            exitCode: 127,
            signal: null,
            stderrTail: programMissing
              ? await missingInterpreter(program, job.cwd) ?? `program not found: ${program}`
              : cwd
              ? `working folder is not a folder: ${job.cwd}`
              : `working folder does not exist: ${job.cwd}`,
          });
        }
        // The spawn itself failed (arguments too long for the system, say): said of the program,
        // not of setsid(1) that would have started it, with the code a shell gives it.
        const reason = SPAWN_FAILED.exec(error instanceof Error ? error.message : "")?.[1];
        if (reason !== undefined) {
          throw new CommandFailedError(program, {
            exitCode: 126,
            signal: null,
            stderrTail: await cannotStart(program, job.cwd, reason),
          });
        }
        throw error;
      }

      const group = new ProcessGroup(child.pid, job.killGraceMs ?? killGraceMs);
      const onAbort = () => group.stop();
      signal.addEventListener("abort", onAbort, { once: true });
      const tail = new TailBuffer(STDERR_TAIL_BYTES);
      let writes = Promise.resolve();
      let logged = 0;
      let dropped = 0;
      // The first write to the log that failed (a full disk): the command runs on, unlogged.
      let unlogged: unknown;
      const write = (bytes: Uint8Array) => {
        writes = writes.then(() => unlogged === undefined ? writeAll(log, bytes) : undefined)
          .catch((error) => void (unlogged = error));
      };
      const save = (chunk: Uint8Array) => {
        const room = Math.max(0, logMaxBytes - logged);
        const kept = chunk.byteLength <= room ? chunk : chunk.subarray(0, room);
        logged += kept.byteLength;
        dropped += chunk.byteLength - kept.byteLength;
        if (kept.byteLength > 0) write(kept);
      };
      try {
        const pumps = Promise.all([
          pump(child.stdout, save),
          pump(child.stderr, (chunk) => {
            tail.push(chunk);
            save(chunk);
          }),
        ]);
        const status = await child.status;
        group.leaderExited();
        // Whatever the leader left behind in its group (background children holding the
        // pipes open) is ended with it, or the pipes would never close.
        group.stop();
        await pumps;
        if (dropped > 0) {
          const note = `\n[taskpool: log cut at ${logMaxBytes} bytes; ${dropped} more not kept]\n`;
          write(new TextEncoder().encode(note));
        }
        await writes;
        signal.throwIfAborted();
        // What the command did comes first; a log that could not be kept fails the job after.
        if (!status.success) {
          const stderr = tail.text();
          // setsid(1) could not exec the program: said as a failed spawn is, with the reason.
          const exec = setsid !== null && (status.code === 126 || status.code === 127)
            ? EXEC_FAILED.exec(stderr)
            : null;
          throw new CommandFailedError(program, {
            exitCode: status.code,
            signal: status.signal,
            stderrTail: exec ? await cannotStart(program, job.cwd, exec[1]!) : stderr,
          });
        }
        if (unlogged !== undefined) throw namingFile(unlogged, job.logPath);
        return { exitCode: status.code, pid: child.pid };
      } finally {
        signal.removeEventListener("abort", onAbort);
        await group.dispose();
      }
    },
  };
}

async function pump(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void) {
  for await (const chunk of stream) onChunk(chunk);
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) offset += await file.write(chunk.subarray(offset));
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
    while (this.#size - (this.#chunks[0]?.byteLength ?? 0) >= this.#limit) {
      this.#size -= this.#chunks.shift()!.byteLength;
    }
  }

  text(): string {
    const all = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return new TextDecoder().decode(all.subarray(Math.max(0, this.#size - this.#limit)));
  }
}

/** Opens a job's log, making its folder first unless this run made it already. */
async function openLog(path: string, made: Set<string>): Promise<Deno.FsFile> {
  const folder = dirname(path);
  const open = () =>
    Deno.open(path, { write: true, create: true, truncate: true }).catch((error) => {
      throw error instanceof Deno.errors.NotFound ? error : namingFile(error, path);
    });
  if (!made.has(folder)) {
    await Deno.mkdir(folder, { recursive: true });
    made.add(folder);
    return await open();
  }
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(folder, { recursive: true }); // removed since (by a job, say)
    return await open();
  }
}
