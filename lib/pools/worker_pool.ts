/**
 * A pool of persistent Deno Workers, created lazily up to a size and reused across tasks.
 * A task that throws fails alone; a Worker that dies (uncaught error) or whose task is
 * aborted (timeout, cancel) is terminated and replaced on demand, so queued tasks go on.
 *
 * @module
 */
import { ComputeError } from "../errors.ts";

/** What a Worker is asked to do. */
export interface WorkerTask {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  /** Passed to the function as its last argument. */
  context: unknown;
}

/** A Worker's answer to a task. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most Workers alive at once. */
  size: number;
  /** The Worker entry module. @default tasks/compute_worker.ts */
  entry?: URL;
}

/** What {@linkcode WorkerPool.run} resolves with. */
export interface WorkerRunResult {
  value: unknown;
  /** Which Worker ran it (ids grow as Workers are replaced). */
  workerId: number;
}

interface Slot {
  id: number;
  worker: Worker;
  current:
    | {
      taskId: number;
      resolve: (result: WorkerRunResult) => void;
      reject: (error: unknown) => void;
    }
    | undefined;
}

/**
 * Runs tasks on Workers.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 1 });
 * try {
 *   const moduleUrl = new URL("../../tasks/builtin/count.ts", import.meta.url).href;
 *   const { value } = await pool.run({ moduleUrl, exportName: "default", args: [10], context: {} });
 *   console.assert(value === 10);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class WorkerPool {
  readonly #size: number;
  readonly #entry: URL;
  readonly #idle: Slot[] = [];
  readonly #waiting: { take: (slot: Slot) => void; fail: (error: unknown) => void }[] = [];
  #alive = 0;
  #nextWorkerId = 1;
  #nextTaskId = 1;
  #closed = false;
  readonly #all = new Set<Slot>();

  constructor(options: WorkerPoolOptions) {
    const { size, entry = new URL("../../tasks/compute_worker.ts", import.meta.url) } = options;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`WorkerPool size must be a whole number >= 1: got ${size}`);
    }
    this.#size = size;
    this.#entry = entry;
  }

  /** Workers started so far, replacements included. */
  get started(): number {
    return this.#nextWorkerId - 1;
  }

  /**
   * Runs one task on a free Worker. Aborting `signal` terminates that Worker (a replacement is
   * started for the next task) and rejects with `signal.reason`.
   */
  async run(task: WorkerTask, options: { signal?: AbortSignal } = {}): Promise<WorkerRunResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const slot = await this.#acquire(signal);
    if (signal?.aborted) {
      // Aborted while waiting for the slot: the Worker was never touched.
      this.#release(slot);
      throw signal.reason;
    }
    const { promise, resolve, reject } = Promise.withResolvers<WorkerRunResult>();
    const taskId = this.#nextTaskId++;
    slot.current = { taskId, resolve, reject };
    const onAbort = () => {
      this.#discard(slot);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      slot.worker.postMessage({ id: taskId, ...task });
    } catch (error) {
      // Arguments that cannot be structured-cloned: the Worker is fine.
      slot.current = undefined;
      signal?.removeEventListener("abort", onAbort);
      this.#release(slot);
      throw new ComputeError(`arguments cannot be sent to a Worker: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      return await promise;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (this.#all.has(slot)) {
        slot.current = undefined;
        this.#release(slot);
      }
    }
  }

  /** Terminates every Worker; tasks still running reject. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.fail(new ComputeError("the Worker pool was closed", {}));
    }
    for (const slot of [...this.#all]) {
      this.#discard(slot);
      slot.current?.reject(new ComputeError("the Worker pool was closed", {}));
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<Slot> {
    if (this.#closed) return Promise.reject(new ComputeError("the Worker pool is closed", {}));
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#alive < this.#size) return Promise.resolve(this.#spawn());
    const { promise, resolve, reject } = Promise.withResolvers<Slot>();
    const waiter = {
      take: (slot: Slot) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(slot);
      },
      fail: (error: unknown) => {
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      },
    };
    const onAbort = () => {
      const index = this.#waiting.indexOf(waiter);
      if (index >= 0) this.#waiting.splice(index, 1);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#waiting.push(waiter);
    return promise;
  }

  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    if (next) next.take(slot);
    else this.#idle.push(slot);
  }

  #spawn(): Slot {
    const worker = new Worker(this.#entry, {
      type: "module",
      name: `taskpool-${this.#nextWorkerId}`,
    });
    const slot: Slot = { id: this.#nextWorkerId++, worker, current: undefined };
    this.#alive++;
    this.#all.add(slot);
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      const current = slot.current;
      if (!current || reply.id !== current.taskId) return;
      if (reply.ok) {
        current.resolve({ value: reply.value, workerId: slot.id });
      } else {
        const { message, stack } = reply.error;
        current.reject(new ComputeError(message, { workerStack: stack }));
      }
    };
    const die = (message: string) => {
      const current = slot.current;
      this.#discard(slot);
      current?.reject(new ComputeError(message, {}));
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught error in a Worker ends the whole process.
      event.preventDefault();
      const where = event.filename ? ` (${event.filename}:${event.lineno}:${event.colno})` : "";
      die(`the Worker died: ${event.message}${where}`);
    };
    worker.onmessageerror = () => die("the Worker's reply could not be deserialised");
    return slot;
  }

  /** Terminates a Worker and forgets it; a new one is spawned when next needed. */
  #discard(slot: Slot): void {
    if (!this.#all.delete(slot)) return;
    slot.worker.terminate();
    this.#alive--;
    const index = this.#idle.indexOf(slot);
    if (index >= 0) this.#idle.splice(index, 1);
    // Someone may be waiting for a Worker that can now be spawned.
    if (this.#closed) return;
    const next = this.#waiting.shift();
    if (next) next.take(this.#spawn());
  }
}
