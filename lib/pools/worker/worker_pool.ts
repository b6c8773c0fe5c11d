/**
 * The Worker pool for compute tasks (`isolation: worker`): threads with a heap cap each, living
 * in supervised host processes ({@linkcode ./host_main.ts}), one per set of
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
 * A host is a {@linkcode ./process_link.ts | process of its own} (`isolation: worker`), or, for a
 * profile with `permissions`, {@linkcode ./in_process_link.ts | threads in taskpool's own
 * process} (`isolation: thread`): no process to start and no frames, so tiny tasks go twice as
 * fast, but a thread stuck in a busy loop spins on until taskpool exits, and one without a heap
 * cap that runs out of heap ends taskpool. The pool drives both the same way.
 *
 * With `aheadPerThread`, a host also holds that many tasks per thread in its own queue and
 * starts the next one the moment a thread is free, so threads never wait for a round trip
 * to taskpool between two tiny tasks; `onStart` tells when each task really begins. Tasks still
 * queued in a host that must be drained or that died move to a fresh host.
 *
 * @module
 */
import { HOST_ENTRY } from "./early_host.ts";
import { watchAbort } from "../../util/abort_watch.ts";
import { ComputeError } from "../compute_error.ts";
import { HostInProcess } from "./in_process_link.ts";
import { HostProcess } from "./process_link.ts";
import { WakeQueue } from "../wake_queue.ts";
import { encodeTaskFrame } from "../frames.ts";
import type {
  ComputeTask,
  HostLink,
  HostLinkOptions,
  HostMessage,
  HostTask,
  ThreadDeath,
} from "../protocol.ts";

/** What a compute thread may do and how much heap it gets. */
export interface WorkerProfile {
  /** Its host process's `deno run` permission flags (`--allow-read=...`). */
  flags: string[];
  /** Heap cap of the thread in MiB. @default V8's default */
  memoryMb?: number;
  /**
   * The same permissions as Worker options: then the threads live in taskpool's own process
   * (`isolation: thread`, see {@linkcode ./in_process_link.ts}), with no heap cap. Tasks go to
   * them unencoded, so their arguments must be structured-cloneable (a job file's always are).
   */
  permissions?: Deno.PermissionOptionsObject;
}

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most tasks running at once (and threads alive). */
  size: number;
  /** The host process's entry module. @default lib/pools/worker/host_main.ts */
  host?: URL;
  /** Tasks a host may hold queued per thread, beyond those running. @default 0 */
  aheadPerThread?: number;
}

/** How often a task whose host died before starting it is sent to a fresh host. */
const MAX_RESENDS = 3;

/** What {@linkcode WorkerPool.run} resolves with. */
export interface WorkerRunResult {
  value: unknown;
  /** Which thread ran it (ids grow as threads are replaced). */
  workerId: number;
}

interface Pending {
  id: number;
  message: HostTask;
  /** The message encoded, for a host process. */
  frame: Uint8Array | undefined;
  resolve: (result: WorkerRunResult) => void;
  reject: (error: unknown) => void;
  profile: WorkerProfile;
  onStart: (() => void) | undefined;
  started: boolean;
  /** The host it was sent to. */
  host: Host | undefined;
  /** Asked back from a draining host, to go to a fresh one. */
  moving: boolean;
  /**
   * Aborted before its host said it started: kept until the host answers the `cancel`, with
   * `cancelled` (dropped) or with the `started` already on its way (then the host drains).
   */
  abandoned: boolean;
  /** Times it was sent again after its host died before starting it. */
  resent: number;
}

interface Host {
  id: number;
  key: string;
  link: HostLink;
  pending: Map<number, Pending>;
  /** Takes no new task; killed once `pending` is empty. */
  draining: boolean;
  /** Its resident memory as it last said, in bytes. */
  rss: number;
  killed: boolean;
  exited: Promise<void>;
}

/**
 * Runs tasks on Worker threads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 1 });
 * try {
 *   const moduleUrl = new URL("../../../tasks/compute/builtin/count.ts", import.meta.url).href;
 *   const task = { moduleUrl, exportName: "default", args: [10], context: {} };
 *   const profile = { flags: ["--allow-read"] };
 *   const { value } = await pool.run(task, { profile });
 *   assert(value === 10);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class WorkerPool {
  readonly #size: number;
  readonly #entry: URL;
  readonly #aheadPerThread: number;
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
    const {
      size,
      host = HOST_ENTRY,
      aheadPerThread = 0,
    } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`WorkerPool size must be a whole number >= 1: got ${size}`);
    }
    this.#size = size;
    this.#entry = host;
    this.#aheadPerThread = aheadPerThread;
  }

  /** Tasks a host may hold queued per thread, beyond those running. */
  get aheadPerThread(): number {
    return this.#aheadPerThread;
  }

  /** Threads that have answered so far, replacements included. */
  get started(): number {
    return this.#workerIds.size;
  }

  /** Host processes started so far, replacements included. */
  get hostsStarted(): number {
    return this.#nextHostId - 1;
  }

  /** The resident memory of the host processes not yet told to stop, as they last said. */
  get rssBytes(): number {
    let sum = 0;
    for (const host of this.#hosts) if (!host.killed) sum += host.rss;
    return sum;
  }

  /** Host processes not yet told to stop: active ones and draining ones. */
  get hostsAlive(): number {
    return [...this.#hosts].filter((host) => !host.killed).length;
  }

  /**
   * Tasks sent to host processes and not settled there: a task cancelled while queued counts
   * until its host has given it back.
   */
  get inHosts(): number {
    let sum = 0;
    for (const host of this.#hosts) sum += host.pending.size;
    return sum;
  }

  /**
   * Runs one task on a thread with `profile`; `onStart` is called when it begins (it may first
   * wait in its host's queue). Aborting `signal` rejects with `signal.reason` at once: a task
   * still queued is dropped, a running one drains its host (see the module doc).
   */
  async run(
    task: ComputeTask,
    options: { profile: WorkerProfile; signal?: AbortSignal; onStart?: () => void },
  ): Promise<WorkerRunResult> {
    const { profile, signal, onStart } = options;
    signal?.throwIfAborted();
    const id = this.#nextTaskId++;
    const { memoryMb } = profile;
    const message: HostTask = { id, task, ...(memoryMb ? { memoryMb } : {}) };
    // Encoded at once for a host process: arguments it cannot carry fail here.
    const frame = profile.permissions ? undefined : encodeTaskFrame(message, "a Worker");
    await this.#acquire(signal);
    try {
      // Aborted as the slot came free: the task was never sent.
      signal?.throwIfAborted();
      const { promise, resolve, reject } = Promise.withResolvers<WorkerRunResult>();
      const pending: Pending = {
        id,
        message,
        frame,
        resolve,
        reject,
        profile,
        onStart,
        started: false,
        host: undefined,
        moving: false,
        abandoned: false,
        resent: 0,
      };
      this.#send(pending);
      const unwatch = signal && watchAbort(signal, () => this.#abandon(pending, signal.reason));
      try {
        return await promise;
      } finally {
        unwatch?.();
      }
    } finally {
      this.#running--;
      this.#waiting.wakeOne();
    }
  }

  /**
   * Starts the host for `profile` now, unless one is active or the pool has all the hosts it
   * may have, so that its threads boot while the caller prepares the tasks (`run` starts hosts
   * as it needs them anyway). Returns whether another host could still be started.
   */
  prestart(profile: WorkerProfile): boolean {
    if (this.#closed) return false;
    const key = hostKeyOf(profile);
    if (!this.#active.has(key) && this.hostsAlive < this.#size) {
      this.#active.set(key, this.#spawn(key, profile));
    }
    return this.hostsAlive < this.#size;
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
    while (this.#running >= this.#size * (1 + this.#aheadPerThread)) {
      if (this.#closed) break;
      await this.#waiting.wait(signal);
    }
    if (this.#closed) throw new ComputeError("the Worker pool is closed", {});
    this.#running++;
  }

  /** The active host for `profile`, started if need be. */
  #host(profile: WorkerProfile): Host {
    const key = hostKeyOf(profile);
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
    const options: HostLinkOptions = {
      size: this.#size,
      firstMemoryMb: profile.memoryMb,
      onMessage: (message) => this.#settle(host, message),
    };
    const link = profile.permissions
      ? new HostInProcess({ ...options, permissions: profile.permissions })
      : new HostProcess({ ...options, entry: this.#entry, flags: profile.flags });
    const host: Host = {
      id: this.#nextHostId++,
      key,
      link,
      pending: new Map(),
      draining: false,
      rss: 0,
      killed: false,
      exited: Promise.resolve(),
    };
    this.#hosts.add(host);
    host.exited = link.exited.then((reason) => {
      this.#kill(host, new ComputeError(reason, {}));
      this.#hosts.delete(host);
    });
    return host;
  }

  /** Sends `pending` to the active host of its profile. */
  #send(pending: Pending): void {
    const host = this.#host(pending.profile);
    pending.host = host;
    host.pending.set(pending.id, pending);
    host.link.send(pending.message, pending.frame);
  }

  /** Gives up `pending` (its signal aborted), rejecting it with `reason`. */
  #abandon(pending: Pending, reason: unknown): void {
    const host = pending.host!;
    if (pending.started) {
      host.pending.delete(pending.id);
      this.#drain(host);
    } else {
      // Its `started` may be on the way: the host's answer to the cancel tells.
      pending.abandoned = true;
      if (!pending.moving) {
        host.link.send({ cancel: pending.id });
      }
    }
    pending.reject(reason);
  }

  #settle(host: Host, message: HostMessage): void {
    if ("started" in message) return this.#started(host, message.started);
    if ("cancelled" in message) return this.#cancelled(host, message.cancelled);
    if ("rss" in message) return void (host.rss = message.rss);
    const pending = host.pending.get(message.id);
    host.pending.delete(message.id);
    if (pending && !pending.abandoned) {
      const workerId = this.#workerId(host, message.worker);
      if ("ok" in message) {
        if (message.ok) pending.resolve({ value: message.value, workerId });
        else {
          const { message: text, stack } = message.error;
          pending.reject(new ComputeError(text, { workerStack: stack }));
        }
      } else pending.reject(new ComputeError(deathReason(message, pending.profile), {}));
    } // else: aborted meanwhile
    if (message.next !== undefined) this.#started(host, message.next);
    if (host.draining && host.pending.size === 0) this.#kill(host);
  }

  #started(host: Host, id: number): void {
    const pending = host.pending.get(id);
    if (!pending || pending.started) return;
    pending.started = true;
    pending.moving = false; // too late to move: it runs here
    if (pending.abandoned) {
      // It runs for no one, maybe stuck: as if aborted once started.
      host.pending.delete(id);
      this.#drain(host);
    } else pending.onStart?.();
  }

  /** A task asked back from a draining host: it goes to a fresh one. */
  #cancelled(host: Host, id: number): void {
    const pending = host.pending.get(id);
    if (!pending || (!pending.moving && !pending.abandoned)) return;
    host.pending.delete(id);
    pending.moving = false;
    if (!pending.abandoned) this.#send(pending);
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
    // Tasks still queued there would wait behind a stuck thread: ask them back.
    for (const pending of host.pending.values()) {
      if (pending.started || pending.moving || pending.abandoned) continue;
      pending.moving = true;
      host.link.send({ cancel: pending.id });
    }
    if (host.pending.size === 0) this.#kill(host);
  }

  /**
   * Ends a host (a host process gets SIGKILL, stuck threads included; threads in this process
   * are terminated, and one stuck in a busy loop spins on). Its running tasks reject with
   * `reason`; tasks it had not started go to a fresh host (up to {@linkcode MAX_RESENDS} times
   * each), unless the pool is closed.
   */
  #kill(host: Host, reason?: ComputeError): void {
    if (this.#active.get(host.key) === host) this.#active.delete(host.key);
    const error = reason ?? new ComputeError("the Worker host process was stopped", {});
    const pendings = [...host.pending.values()];
    host.pending.clear();
    if (!host.killed) {
      host.killed = true;
      host.link.kill();
    }
    for (const pending of pendings) {
      if (pending.abandoned) continue; // rejected already
      if (pending.started || this.#closed || pending.resent >= MAX_RESENDS) pending.reject(error);
      else {
        pending.resent++;
        pending.moving = false;
        this.#send(pending);
      }
    }
  }
}

/** The host key of each profile seen: worked out once, not once per task. */
const hostKeys = new WeakMap<WorkerProfile, string>();

/**
 * Which host a task with `profile` goes to: one per kind of host and set of rights (threads of
 * a host may differ in heap cap).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostKeyOf } from "./worker_pool.ts";
 * const capped = { flags: ["--allow-read=/jobs"], memoryMb: 256 };
 * assert(hostKeyOf(capped) === hostKeyOf({ flags: ["--allow-read=/jobs"] }));
 * ```
 */
export function hostKeyOf(profile: WorkerProfile): string {
  let key = hostKeys.get(profile);
  if (key === undefined) {
    const kind = profile.permissions ? "thread" : "process";
    hostKeys.set(profile, key = `${kind}\u0000${profile.flags.join("\u0000")}`);
  }
  return key;
}

/** Why a thread ended under its task, in words. */
function deathReason(message: ThreadDeath, profile: WorkerProfile): string {
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
