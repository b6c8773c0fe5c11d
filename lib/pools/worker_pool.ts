/**
 * The Worker pool for compute tasks (`isolation: worker`): threads with a heap cap each, living
 * in supervised host processes ({@linkcode ../../tasks/worker_host.ts}), one per set of
 * permissions (a {@linkcode WorkerProfile}), which taskpool restarts when it must.
 *
 * Why host processes: on Deno 2.9.6 a Worker cannot narrow its permissions and cap its heap at
 * once (only a Deno Worker narrows, only a `node:worker_threads` one caps), so the process carries
 * the permissions as flags and its threads inherit them. And no Worker can be stopped in a busy
 * loop (`terminate()` leaves the thread spinning), so a task that times out or is cancelled
 * marks its host as draining: new tasks go to a fresh host at once, the other tasks in the old
 * one finish there, and then the old host is killed, its stuck thread with it. Inside a host, a
 * thread that throws fails its task alone; one that runs out of heap or calls `Deno.exit` ends
 * alone, fails its task, and is replaced; queued tasks never notice.
 *
 * @module
 */
import { ComputeError } from "../errors.ts";
import { readFrames } from "./frames.ts";
import { WakeQueue } from "./wake_queue.ts";
import { type ComputeTask, encodeTaskFrame, type TaskReply } from "./task.ts";

/** What a compute thread may do and how much heap it gets. */
export interface WorkerProfile {
  /** Its host process's `deno run` permission flags (`--allow-read=...`). */
  flags: string[];
  /** Heap cap of the thread in MiB. @default V8's default */
  memoryMb?: number;
}

/** A task as the host process receives it. */
export interface HostTask {
  id: number;
  task: ComputeTask;
  memoryMb?: number;
}

/** How a thread ended under its task. */
export type ThreadDeath =
  | { died: "oom" }
  | { died: "exit"; code: number }
  | { died: "error"; message: string; stack?: string };

/** What a host process answers for a task: the reply, or how its thread died. */
export type HostMessage = { worker: number } & (TaskReply | ({ id: number } & ThreadDeath));

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most tasks running at once (and threads alive). */
  size: number;
  /** The host process's entry module. @default tasks/worker_host.ts */
  host?: URL;
}

/** What {@linkcode WorkerPool.run} resolves with. */
export interface WorkerRunResult {
  value: unknown;
  /** Which thread ran it (ids grow as threads are replaced). */
  workerId: number;
}

interface Pending {
  resolve: (result: WorkerRunResult) => void;
  reject: (error: unknown) => void;
  profile: WorkerProfile;
}

interface Host {
  id: number;
  key: string;
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  pending: Map<number, Pending>;
  /** Takes no new task; killed once `pending` is empty. */
  draining: boolean;
  killed: boolean;
  exited: Promise<void>;
}

/**
 * Runs tasks on Worker threads.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 1 });
 * try {
 *   const moduleUrl = new URL("../../tasks/builtin/count.ts", import.meta.url).href;
 *   const task = { moduleUrl, exportName: "default", args: [10], context: {} };
 *   const profile = { flags: ["--allow-read"] };
 *   const { value } = await pool.run(task, { profile });
 *   console.assert(value === 10);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class WorkerPool {
  readonly #size: number;
  readonly #entry: URL;
  /** Hosts not yet exited, killed ones included. */
  readonly #hosts = new Set<Host>();
  readonly #waiting = new WakeQueue();
  readonly #workerIds = new Map<string, number>();
  #running = 0;
  /** The host that takes new tasks, for each profile. */
  readonly #active = new Map<string, Host>();
  #nextHostId = 1;
  #nextTaskId = 1;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    const { size, host = new URL("../../tasks/worker_host.ts", import.meta.url) } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`WorkerPool size must be a whole number >= 1: got ${size}`);
    }
    this.#size = size;
    this.#entry = host;
  }

  /** Threads that have answered so far, replacements included. */
  get started(): number {
    return this.#workerIds.size;
  }

  /** Host processes started so far, replacements included. */
  get hostsStarted(): number {
    return this.#nextHostId - 1;
  }

  /** Host processes not yet told to stop: active ones and draining ones. */
  get hostsAlive(): number {
    return [...this.#hosts].filter((host) => !host.killed).length;
  }

  /**
   * Runs one task on a thread with `profile`. Aborting `signal` rejects with `signal.reason` at
   * once and drains that task's host (see the module doc); queued tasks go on.
   */
  async run(
    task: ComputeTask,
    options: { profile: WorkerProfile; signal?: AbortSignal },
  ): Promise<WorkerRunResult> {
    const { profile, signal } = options;
    signal?.throwIfAborted();
    const id = this.#nextTaskId++;
    const { memoryMb } = profile;
    const message: HostTask = { id, task, ...(memoryMb ? { memoryMb } : {}) };
    const frame = encodeTaskFrame(message, "a Worker");
    await this.#acquire(signal);
    try {
      // Aborted as the slot came free: the task was never sent.
      signal?.throwIfAborted();
      const host = this.#host(profile);
      const { promise, resolve, reject } = Promise.withResolvers<WorkerRunResult>();
      host.pending.set(id, { resolve, reject, profile });
      const onAbort = () => {
        host.pending.delete(id);
        this.#drain(host);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      host.writer.write(frame).catch(() => {}); // a dead host is reported by its exit
      try {
        return await promise;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    } finally {
      this.#running--;
      this.#waiting.wakeOne();
    }
  }

  /** Kills every host process and waits for them to exit; tasks still running reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiting.wakeAll();
    const exits = [...this.#hosts].map((host) => {
      this.#kill(host, new ComputeError("the Worker pool was closed", {}));
      return host.exited;
    });
    await Promise.all(exits);
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    while (this.#running >= this.#size) {
      if (this.#closed) break;
      await this.#waiting.wait(signal);
    }
    if (this.#closed) throw new ComputeError("the Worker pool is closed", {});
    this.#running++;
  }

  /** The active host for `profile`, started if need be. */
  #host(profile: WorkerProfile): Host {
    const key = profile.flags.join("\u0000");
    const active = this.#active.get(key);
    if (active) return active;
    // At most `size` hosts: one with no task running makes room (one exists, as this task holds
    // one of the `size` running places and is on no host yet).
    const live = [...this.#hosts].filter((host) => !host.killed);
    if (live.length >= this.#size) {
      const spare = live.find((host) => host.pending.size === 0);
      if (spare) this.#kill(spare);
    }
    const host = this.#spawn(key, profile);
    this.#active.set(key, host);
    return host;
  }

  #spawn(key: string, profile: WorkerProfile): Host {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...profile.flags,
        this.#entry.href,
        String(this.#size),
        ...(profile.memoryMb ? [String(profile.memoryMb)] : []),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    }).spawn();
    const host: Host = {
      id: this.#nextHostId++,
      key,
      child,
      writer: child.stdin.getWriter(),
      pending: new Map(),
      draining: false,
      killed: false,
      exited: Promise.resolve(),
    };
    this.#hosts.add(host);
    const replies = this.#readReplies(host);
    host.exited = Promise.all([child.status, replies]).then(([status]) => {
      this.#kill(host, new ComputeError(exitReason(status), {}));
      this.#hosts.delete(host);
    });
    return host;
  }

  async #readReplies(host: Host): Promise<void> {
    try {
      for await (const message of readFrames(host.child.stdout)) {
        this.#settle(host, message as HostMessage);
      }
    } catch (error) {
      // Stray bytes on stdout (a task wrote there): the host can no longer be trusted.
      this.#kill(host, new ComputeError(`the Worker host process broke its channel: ${error}`, {}));
    }
  }

  #settle(host: Host, message: HostMessage): void {
    const pending = host.pending.get(message.id);
    if (!pending) return; // aborted meanwhile
    host.pending.delete(message.id);
    const workerId = this.#workerId(host, message.worker);
    if ("ok" in message) {
      if (message.ok) pending.resolve({ value: message.value, workerId });
      else {
        const { message: text, stack } = message.error;
        pending.reject(new ComputeError(text, { workerStack: stack }));
      }
    } else pending.reject(new ComputeError(deathReason(message, pending.profile), {}));
    if (host.draining && host.pending.size === 0) this.#kill(host);
  }

  #workerId(host: Host, local: number): number {
    const key = `${host.id}:${local}`;
    let id = this.#workerIds.get(key);
    if (id === undefined) this.#workerIds.set(key, id = this.#workerIds.size + 1);
    return id;
  }

  #drain(host: Host): void {
    host.draining = true;
    if (this.#active.get(host.key) === host) this.#active.delete(host.key);
    if (host.pending.size === 0) this.#kill(host);
  }

  /** Ends a host (SIGKILL: stuck threads included); its pending tasks reject with `reason`. */
  #kill(host: Host, reason?: ComputeError): void {
    if (this.#active.get(host.key) === host) this.#active.delete(host.key);
    for (const pending of host.pending.values()) {
      pending.reject(reason ?? new ComputeError("the Worker host process was stopped", {}));
    }
    host.pending.clear();
    if (host.killed) return;
    host.killed = true;
    host.writer.close().catch(() => {});
    try {
      host.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Why a thread ended under its task, in words. */
function deathReason(
  message: Exclude<HostMessage, TaskReply & { worker: number }>,
  profile: WorkerProfile,
): string {
  switch (message.died) {
    case "oom": {
      const cap = profile.memoryMb === undefined ? "" : ` (memory: ${profile.memoryMb} MiB)`;
      return `the task ran out of memory${cap}`;
    }
    case "exit":
      return `the task called Deno.exit(${message.code})`;
    case "error":
      return `the Worker died: ${message.message}${where(message.stack)}`;
  }
}

/** ` (file:///m.ts:3:9)`: the first place in a stack that is a module's. */
function where(stack: string | undefined): string {
  const match = stack?.match(/(file:\/\/\S+?:\d+:\d+)/);
  return match ? ` (${match[1]})` : "";
}

function exitReason(status: Deno.CommandStatus): string {
  if (status.signal) return `the Worker host process was killed by ${status.signal}`;
  return `the Worker host process exited with code ${status.code}`;
}
