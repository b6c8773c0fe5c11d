/**
 * A pool of persistent `deno` host processes for compute tasks (`isolation: process`), created
 * lazily up to a size and reused across tasks with the same {@linkcode HostProfile} (the same
 * permission and heap flags). Each host runs one task at a time, so every failure is the task's
 * own: a task that times out or is cancelled gets its host killed (SIGKILL: a busy loop cannot
 * ignore it); a host that exits mid-task (`Deno.exit`, out of memory, a crash) fails that task.
 * The host is replaced on demand and queued tasks go on.
 *
 * @module
 */
import { ownFileUrl } from "../../util/own_files.ts";
import { ComputeError } from "../compute_error.ts";
import { killOnHardExit } from "../../util/exit_hooks.ts";
import { WakeQueue } from "../wake_queue.ts";
import { encodeTaskFrame, readFrames } from "../frames.ts";
import type { ComputeTask, HostMemory, TaskReply } from "../protocol.ts";

/** How a host process is started: what it may do and how much heap it gets. */
export interface HostProfile {
  /** `deno run` flags: permissions (`--allow-read=...`) and `--v8-flags=--max-old-space-size=N`. */
  flags: string[];
  /** The heap cap in MiB, for messages. */
  memoryMb?: number;
}

/** Options for {@linkcode ProcessPool}. */
export interface ProcessPoolOptions {
  /** Most host processes alive at once. */
  size: number;
  /** The host entry module. @default lib/pools/process/host_main.ts */
  entry?: URL;
}

/** What {@linkcode ProcessPool.run} resolves with. */
export interface ProcessRunResult {
  value: unknown;
  /** Which host ran it (ids grow as hosts are replaced). */
  hostId: number;
  pid: number;
}

/** Bytes of a host's stderr kept for the error of a task it failed. */
const STDERR_TAIL = 4096;

interface Host {
  id: number;
  key: string;
  profile: HostProfile;
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  stderr: string;
  current:
    | { taskId: number; resolve: (r: ProcessRunResult) => void; reject: (e: unknown) => void }
    | undefined;
  /** Set when taskpool itself ended the process. */
  killed: boolean;
  /** Its resident memory as it last said (with each reply), in bytes. */
  rss: number;
  exited: Promise<void>;
}

/**
 * Runs tasks in host processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessPool } from "./process_pool.ts";
 * const pool = new ProcessPool({ size: 1 });
 * try {
 *   const moduleUrl = new URL("../../../tasks/compute/builtin/count.ts", import.meta.url).href;
 *   const profile = { flags: ["--allow-read"] };
 *   const task = { moduleUrl, exportName: "default", args: [10], context: {} };
 *   const { value } = await pool.run(task, { profile });
 *   assert(value === 10);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class ProcessPool {
  readonly #size: number;
  readonly #entry: URL;
  readonly #hosts = new Set<Host>();
  readonly #idle: Host[] = [];
  readonly #waiting = new WakeQueue();
  #nextHostId = 1;
  #nextTaskId = 1;
  #closed = false;

  constructor(options: ProcessPoolOptions) {
    const { size, entry = ownFileUrl("lib/pools/process/host_main.ts") } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`ProcessPool size must be a whole number >= 1: got ${size}`);
    }
    this.#size = size;
    this.#entry = entry;
  }

  /** Host processes started so far, replacements included. */
  get started(): number {
    return this.#nextHostId - 1;
  }

  /** The resident memory of the live hosts, as each last said (after each task), in bytes. */
  get rssBytes(): number {
    let sum = 0;
    for (const host of this.#hosts) if (!host.killed) sum += host.rss;
    return sum;
  }

  /**
   * Runs one task on a host with `profile`. Aborting `signal` kills that host and rejects with
   * `signal.reason`.
   */
  async run(
    task: ComputeTask,
    options: { profile: HostProfile; signal?: AbortSignal },
  ): Promise<ProcessRunResult> {
    const { profile, signal } = options;
    signal?.throwIfAborted();
    const taskId = this.#nextTaskId++;
    const frame = encodeTaskFrame({ id: taskId, ...task }, "a process");
    const host = await this.#acquire(profileKey(profile), profile, signal);
    if (signal?.aborted) {
      // Aborted as the host came free: it was never given the task.
      this.#release(host);
      throw signal.reason;
    }
    const { promise, resolve, reject } = Promise.withResolvers<ProcessRunResult>();
    host.current = { taskId, resolve, reject };
    const onAbort = () => {
      host.current = undefined;
      this.#kill(host);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      host.writer.write(frame).catch(() => {}); // a dead host is reported by its exit
      return await promise;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (this.#hosts.has(host)) {
        host.current = undefined;
        this.#release(host);
      }
    }
  }

  /** Kills every host and waits for them to exit; tasks still running reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiting.wakeAll();
    const exits = [...this.#hosts].map((host) => {
      const current = host.current;
      this.#kill(host);
      current?.reject(new ComputeError("the process pool was closed", {}));
      return host.exited;
    });
    await Promise.all(exits);
  }

  async #acquire(key: string, profile: HostProfile, signal: AbortSignal | undefined) {
    for (;;) {
      if (this.#closed) throw new ComputeError("the process pool is closed", {});
      const index = this.#idle.findIndex((host) => host.key === key);
      if (index >= 0) return this.#idle.splice(index, 1)[0]!;
      if (this.#hosts.size < this.#size) return this.#spawn(key, profile);
      // A host idle under another profile makes room.
      const other = this.#idle.shift();
      if (other) {
        this.#kill(other);
        continue;
      }
      await this.#waiting.wait(signal);
    }
  }

  #release(host: Host): void {
    this.#idle.push(host);
    this.#waiting.wakeOne();
  }

  #spawn(key: string, profile: HostProfile): Host {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...profile.flags, this.#entry.href],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    }).spawn();
    // A task in a busy loop keeps its host from reading stdin, so from seeing taskpool's end.
    killOnHardExit(child);
    const host: Host = {
      id: this.#nextHostId++,
      key,
      profile,
      child,
      writer: child.stdin.getWriter(),
      stderr: "",
      current: undefined,
      killed: false,
      rss: 0,
      exited: Promise.resolve(),
    };
    this.#hosts.add(host);
    const replies = this.#readReplies(host);
    const stderr = this.#readStderr(host);
    host.exited = Promise.all([child.status, replies, stderr]).then(([status]) => {
      this.#exited(host, status);
    });
    return host;
  }

  async #readReplies(host: Host): Promise<void> {
    try {
      for await (const message of readFrames(host.child.stdout)) {
        const reply = message as TaskReply | { id: number; exit: number } | HostMemory;
        if ("rss" in reply) {
          host.rss = reply.rss;
          continue;
        }
        const current = host.current;
        if (!current || reply.id !== current.taskId) continue;
        if ("exit" in reply) {
          host.current = undefined;
          this.#kill(host); // on its way out: take no further task
          current.reject(new ComputeError(`the task called Deno.exit(${reply.exit})`, {}));
        } else if (reply.ok) {
          current.resolve({ value: reply.value, hostId: host.id, pid: host.child.pid });
        } else {
          const { message, stack } = reply.error;
          current.reject(new ComputeError(message, { workerStack: stack }));
        }
      }
    } catch (error) {
      // Stray bytes on stdout: the host can no longer be trusted.
      const current = host.current;
      host.current = undefined;
      this.#kill(host);
      current?.reject(new ComputeError(`the host process broke its channel: ${error}`, {}));
    }
  }

  async #readStderr(host: Host): Promise<void> {
    for await (const text of host.child.stderr.pipeThrough(new TextDecoderStream())) {
      host.stderr = (host.stderr + text).slice(-STDERR_TAIL);
    }
  }

  /** A host ended: by our kill, or on its own while (or before) running a task. */
  #exited(host: Host, status: Deno.CommandStatus): void {
    this.#forget(host);
    host.writer.close().catch(() => {});
    const current = host.current;
    host.current = undefined;
    if (!current || host.killed) return;
    current.reject(new ComputeError(exitReason(host, status), { workerStack: host.stderr }));
  }

  #kill(host: Host): void {
    if (host.killed) return;
    host.killed = true;
    this.#forget(host);
    host.writer.close().catch(() => {});
    try {
      host.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  #forget(host: Host): void {
    if (!this.#hosts.delete(host)) return;
    const index = this.#idle.indexOf(host);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#waiting.wakeOne(); // room for a new host
  }
}

/** Why a host died under a task, in words. */
function exitReason(host: Host, status: Deno.CommandStatus): string {
  const outOfMemory = /out of memory|heap limit|allocation failed/i.test(host.stderr) ||
    status.code === 133 || status.signal === "SIGTRAP";
  if (outOfMemory) {
    const cap = host.profile.memoryMb === undefined
      ? ""
      : ` (memory: ${host.profile.memoryMb} MiB)`;
    return `the task ran out of memory${cap}`;
  }
  if (status.signal) return `the host process was killed by ${status.signal}`;
  // Deno ends a process whose event loop is empty while a top-level await still waits: here the
  // task's module (or the task) waited for something nothing could still bring.
  if (/Top-level await promise never resolved/.test(host.stderr)) {
    return "the task waited on a promise nothing was left to settle (a top-level await in its " +
      "module, or a promise with no timer or I/O behind it)";
  }
  const said = /^error: (.+)$/m.exec(host.stderr)?.[1];
  return `the host process exited with code ${status.code}${said ? `: ${said.slice(0, 300)}` : ""}`;
}

function profileKey(profile: HostProfile): string {
  return profile.flags.join("\u0000");
}
