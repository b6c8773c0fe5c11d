/**
 * Everything that crosses between the compute pools, their hosts and their threads: a task (call
 * this export of this module with these arguments) and its reply, which cross a Worker's message
 * port and a host process's frames alike; what the Worker pool and a host say to each other; what
 * a host and its runner threads say; and the slot rule by which a host and a thread agree, with
 * no message, on which of them owns a queued task.
 *
 * A word here means one thing: a *task* is one call of a module's export (one attempt of a
 * compute job); a *host* is a process (or, for `isolation: thread`, a part of taskpool's own)
 * that owns runner *threads*.
 *
 * This file imports nothing: runner threads load it with only their own files readable.
 *
 * @module
 */

/** A call to make where the task runs. */
export interface ComputeTask {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  /** Passed to the function as its last argument. */
  context: unknown;
}

/** How a task's error crosses back: plain data, with the stack as text. */
export interface TaskErrorShape {
  name: string;
  message: string;
  stack?: string;
}

/** The answer to task `id`: its value in JSON form, or its error. */
export type TaskReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: TaskErrorShape };

/** A host's resident memory in bytes, sent now and then so taskpool can sum its processes. */
export interface HostMemory {
  rss: number;
}

/** What {@linkcode ./worker/worker_pool.ts | WorkerPool} asks of a host, whatever its kind. */
export interface HostLinkOptions {
  /** Threads it runs at once. */
  size: number;
  /** The heap cap of its first task, for the threads it starts at once. */
  firstMemoryMb: number | undefined;
  /** Called with each message of the host, in order. */
  onMessage: (message: HostMessage) => void;
}

/** A host as {@linkcode ./worker/worker_pool.ts | WorkerPool} drives it: a process of its own, or threads in this one. */
export interface HostLink {
  /** Resolves once the host has ended, with why in words. */
  readonly exited: Promise<string>;
  /** Sends `request`; `frame` is its encoding, when the caller has it already. */
  send(request: HostRequest, frame?: Uint8Array): void;
  /** Ends the host, because of `reason` if one is given. */
  kill(reason?: string): void;
}

/** A task as the host process receives it. */
export interface HostTask {
  id: number;
  task: ComputeTask;
  memoryMb?: number;
}

/** What taskpool sends a host: a task, or "drop task `cancel` if it has not started". */
export type HostRequest = HostTask | { cancel: number };

/**
 * A task as a host's thread receives it, with its `slot` in the thread's shared task states
 * (see the slot rule below).
 */
export type RunnerTask = ComputeTask & { id: number; slot: number };

/** What a thread says: a task's reply, or how the thread died under a task. */
export type RunnerReply = TaskReply | ({ id: number } & ThreadDeath);

/**
 * What a thread posts to its host: a reply that did not go through its reply ring (bytes, or
 * one too big), how it died, or `{ read: true }`: "read my ring" (it runs low on tasks).
 */
export type RunnerMessage = RunnerReply | { read: true };

/** What a host hands a new thread, before any task. */
export interface RunnerSetup {
  /** Where its tasks come and where it posts. */
  port: MessagePort;
  /** Its tasks' states: see {@linkcode RunnerTask}. */
  states: SharedArrayBuffer;
  /** Its {@linkcode ./worker/reply_ring.ts | reply ring}. */
  replies: SharedArrayBuffer;
  /** It asks its host to read its ring when it holds this many tasks or fewer. */
  callAt: number;
}

/** How a thread ended under its task. */
export type ThreadDeath =
  | { died: "oom" }
  | { died: "exit"; code: number }
  | { died: "error"; message: string; stack?: string };

/**
 * What a host process says: a task's reply (with `next`, the task its thread started next) or
 * how its thread died under it, that another task started (`started`), or that a task was
 * dropped before it started (`cancelled`).
 */
export type HostMessage =
  | ({ worker: number; next?: number } & (TaskReply | ({ id: number } & ThreadDeath)))
  | { started: number }
  | { cancelled: number }
  | HostMemory;

/**
 * The slot rule. A thread's task states are an `Int32Array` shared by the host and the thread,
 * one slot per task the thread holds: `id` while the task is queued, `-id` once the thread has
 * started it, 0 when free. Each side moves a slot only by compare-and-swap from `id`, so exactly
 * one of them wins a queued task: the thread ({@linkcode claimTask}) or the host taking it back
 * ({@linkcode takeTaskBack}), even while the thread is stuck in another task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimTask, queueTask, taskStarted, takeTaskBack } from "./protocol.ts";
 * const states = new Int32Array(new SharedArrayBuffer(8));
 * queueTask(states, 0, 7);
 * assert(claimTask(states, 0, 7) && taskStarted(states, 0, 7));
 * assert(!takeTaskBack(states, 0, 7)); // too late: the thread has it
 * queueTask(states, 1, 8);
 * assert(takeTaskBack(states, 1, 8) && !claimTask(states, 1, 8));
 * ```
 */
export function queueTask(states: Int32Array, slot: number, id: number): void {
  Atomics.store(states, slot, id);
}

/** The thread's side of the slot rule: starts task `id` unless the host took it back. */
export function claimTask(states: Int32Array, slot: number, id: number): boolean {
  return Atomics.compareExchange(states, slot, id, -id) === id;
}

/** The host's side of the slot rule: takes task `id` back unless its thread started it. */
export function takeTaskBack(states: Int32Array, slot: number, id: number): boolean {
  return Atomics.compareExchange(states, slot, id, 0) === id;
}

/** Whether the thread has started task `id` (and not yet freed its slot). */
export function taskStarted(states: Int32Array, slot: number, id: number): boolean {
  return Atomics.load(states, slot) === -id;
}
