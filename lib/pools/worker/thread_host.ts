/**
 * A Worker host's threads and its queue of tasks: the heart of a
 * {@linkcode ./host_main.ts | Worker host process}, and of `isolation: thread`, where the same
 * threads live in taskpool's own process. It runs each task on a
 * {@linkcode ./runner_loop.ts | runner} {@linkcode ./runner_thread.ts | thread} with the task's
 * heap cap; threads are started at once (`size` of them, with the first task's heap cap), reused,
 * and replaced as tasks need.
 *
 * Each thread holds a short queue of its own (up to {@linkcode THREAD_QUEUE} tasks, topped up
 * in one message when it falls to {@linkcode REFILL_AT}), so it goes from one tiny task to the
 * next without waiting for the host. The first task in a thread's queue is the one running.
 * Tasks beyond the threads' queues wait in the host, first come first served. The host can take
 * a task back from a thread's queue at any time, even from a thread stuck in a loop, through the
 * task states they share (see {@linkcode RunnerTask}): whichever of the two swaps the task's slot
 * first decides whether it runs. So a thread whose queue runs dry takes the last queued task of
 * the busiest thread, and no task waits behind a long one while a thread is idle.
 *
 * Threads answer through {@linkcode ReplyRing | reply rings} in shared memory, read when a
 * thread calls (it runs low on tasks, or has not called for 2 ms), when new requests come, and
 * every {@linkcode READ_EVERY_MS} ms while threads hold tasks. Each reply, or how a thread died
 * under its task, goes out with the task that started next on that thread (`next`); any other
 * task that starts is announced (`started`). A `cancel` drops a task that has not started
 * (`cancelled`); one that has started goes on, and its reply comes.
 *
 * No thread stuck in a busy loop can be stopped from its own process: the host's owner stops it
 * by ending the host's process (see {@linkcode ./worker_pool.ts}), or, in taskpool's
 * own process, leaves it to spin until the run ends.
 *
 * @example
 * ```ts ignore
 * import { ThreadHost } from "./thread_host.ts";
 * const host = new ThreadHost({
 *   size: 2,
 *   runners: {
 *     web: new URL("./web_runner.ts", import.meta.url),
 *     node: new URL("./node_runner.ts", import.meta.url),
 *   },
 *   out: {
 *     message: (message) => console.log(message),
 *     reply: (worker, next, json) => console.log(worker, next, new TextDecoder().decode(json)),
 *   },
 * });
 * const moduleUrl = new URL("../../../tasks/compute/builtin/count.ts", import.meta.url).href;
 * host.take([{ id: 1, task: { moduleUrl, exportName: "default", args: [5], context: {} } }]);
 * ```
 *
 * @module
 */
import { ReplyRing } from "./reply_ring.ts";
import {
  type HostMessage,
  type HostRequest,
  type HostTask,
  queueTask,
  type RunnerMessage,
  type RunnerReply,
  type RunnerSetup,
  type RunnerTask,
  takeTaskBack,
  taskStarted,
  type ThreadDeath,
} from "../protocol.ts";
import { type RunnerEntries, type RunnerThread, startRunnerThread } from "./runner_thread.ts";

/** The most tasks a thread holds, the running one included. */
const THREAD_QUEUE = 256;
/** A thread is topped up when it holds this many tasks or fewer. */
const REFILL_AT = 128;
/** Room for replies in a thread's ring; a reply that does not fit is posted. */
const RING_BYTES = 256 * 1024;
/**
 * While threads hold tasks, their rings are read at least this often: a thread asks for a read
 * at least every 2 ms while it answers, but not after the reply of a quick task that came soon
 * after it last asked and before a long task. Polling more often would take time from every
 * core, long tasks included.
 */
const READ_EVERY_MS = 10;

/** Where a {@linkcode ThreadHost} sends what its threads say. */
export interface ThreadHostOutput {
  /** Any message but a reply read from a ring. */
  message(message: HostMessage): void;
  /**
   * A reply read from thread `worker`'s ring, with the task that started next on that thread:
   * `json` is the {@linkcode RunnerReply}'s JSON text, an object (`{"id":...}`).
   */
  reply(worker: number, next: number | undefined, json: Uint8Array): void;
}

/** Options for {@linkcode ThreadHost}. */
export interface ThreadHostOptions {
  /** Threads alive at once. */
  size: number;
  /** The heap cap of the first task, for the threads started at once. */
  firstMemoryMb?: number | undefined;
  /** The runner threads' entry modules. */
  runners: RunnerEntries;
  /** The threads' permissions (for web Workers in taskpool's own process); else the process's. */
  permissions?: Deno.PermissionOptionsObject;
  out: ThreadHostOutput;
}

interface Thread {
  id: number;
  /** Its heap cap in MiB, or "" for V8's default. */
  key: string;
  worker: RunnerThread;
  /** Where its tasks and replies go. */
  port: MessagePort;
  /** Its tasks' states, one slot per task it holds: `id` queued, `-id` started, 0 free. */
  states: Int32Array;
  /** Where its replies wait to be read. */
  ring: ReplyRing;
  /** A posted reply whose place in the ring was read: the ring is read on once it comes. */
  awaitingPost: number | undefined;
  /** The tasks it holds, in the order it runs them; the first is running. */
  queue: Queued[];
  /** The slots of its states that no task holds. */
  freeSlots: number[];
  /** It has begun a task: its runner loaded. */
  ran: boolean;
  retired: boolean;
}

/** A task in a thread's queue, and its slot in the thread's states. */
interface Queued {
  task: HostTask;
  slot: number;
  /** The owner was told it started. */
  announced: boolean;
}

/** Threads running tasks, and the tasks waiting for them. */
export class ThreadHost {
  readonly #size: number;
  readonly #runners: RunnerEntries;
  readonly #permissions: Deno.PermissionOptionsObject | undefined;
  readonly #out: ThreadHostOutput;
  readonly #threads = new Set<Thread>();
  /** Tasks waiting for room in a thread, first come first served. */
  readonly #waiting: HostTask[] = [];
  #nextThreadId = 1;
  /** Reads the threads' rings now and then while they hold tasks (see READ_EVERY_MS). */
  #readTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Starts the threads at once, with the first task's heap cap, while that task is on its way. */
  constructor(options: ThreadHostOptions) {
    this.#size = options.size;
    this.#runners = options.runners;
    this.#permissions = options.permissions;
    this.#out = options.out;
    // A thread takes a while to start, which the second task would otherwise wait for.
    for (let i = 0; i < this.#size; i++) {
      this.#start(keyOf(options.firstMemoryMb), options.firstMemoryMb);
    }
  }

  /** Whether any thread holds a task. */
  get busy(): boolean {
    return [...this.#threads].some((thread) => thread.queue.length > 0);
  }

  /** Takes new tasks and cancels, after reading what the threads answered meanwhile. */
  take(requests: readonly HostRequest[]): void {
    if (this.#closed) return;
    for (const thread of this.#threads) this.#readRing(thread);
    for (const request of requests) {
      if ("cancel" in request) this.#cancel(request.cancel);
      else this.#waiting.push(request);
    }
    this.#afterReading();
  }

  /** Ends every thread (not one stuck in a busy loop: no runtime can) and says no more. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#readTimer);
    for (const thread of [...this.#threads]) this.#retire(thread);
    this.#waiting.length = 0;
  }

  #send(message: HostMessage): void {
    if (!this.#closed) this.#out.message(message);
  }

  /** Moves waiting tasks into threads' queues, in order, with one message per thread. */
  #dispatch(): void {
    const batches = new Map<Thread, RunnerTask[]>();
    const waiting = this.#waiting;
    while (waiting.length > 0) {
      const thread = this.#threadFor(waiting[0]!, batches);
      if (!thread) break;
      const { id, task } = waiting[0]!;
      const slot = thread.freeSlots.pop()!;
      queueTask(thread.states, slot, id);
      const announced = thread.queue.length === 0; // it starts at once: said below
      thread.queue.push({ task: waiting.shift()!, slot, announced });
      const batch = batches.get(thread);
      if (batch) batch.push({ id, slot, ...task });
      else batches.set(thread, [{ id, slot, ...task }]);
    }
    for (const [thread, batch] of batches) {
      thread.port.postMessage(batch);
      if (thread.queue.length === batch.length) this.#send({ started: batch[0]!.id });
    }
    if (batches.size > 0) this.#readRegularly();
  }

  /** Starts reading the rings every {@linkcode READ_EVERY_MS} until no thread holds a task. */
  #readRegularly(): void {
    this.#readTimer ??= setInterval(() => {
      for (const thread of this.#threads) this.#readRing(thread);
      this.#afterReading();
      if (!this.busy) {
        clearInterval(this.#readTimer);
        this.#readTimer = undefined;
      }
    }, READ_EVERY_MS);
  }

  /**
   * The thread to queue `task` on: one with its heap cap and room, topped up in this pass or low
   * enough to be, the emptiest first; or a new one, in place of an idle thread with another cap.
   */
  #threadFor(task: HostTask, batches: ReadonlyMap<Thread, unknown>): Thread | undefined {
    const key = keyOf(task.memoryMb);
    let best: Thread | undefined;
    let sameKey = false;
    for (const thread of this.#threads) {
      if (thread.key !== key) continue;
      sameKey = true;
      const room = thread.queue.length < THREAD_QUEUE &&
        (thread.queue.length <= REFILL_AT || batches.has(thread));
      if (room && (!best || thread.queue.length < best.queue.length)) best = thread;
    }
    if (best || sameKey && this.#threads.size >= this.#size) return best;
    if (this.#threads.size >= this.#size) {
      const idle = [...this.#threads].find((thread) => thread.queue.length === 0);
      if (!idle) return undefined;
      this.#retire(idle);
    }
    return this.#start(key, task.memoryMb);
  }

  /** The owner gave up task `id`: dropped if it has not started, else left to finish. */
  #cancel(id: number): void {
    const index = this.#waiting.findIndex((task) => task.id === id);
    if (index >= 0) {
      this.#waiting.splice(index, 1);
      return this.#send({ cancelled: id });
    }
    for (const thread of this.#threads) {
      const at = thread.queue.findIndex(({ task }) => task.id === id);
      if (at < 0) continue;
      // The first is running; a later one may have started as the reply before it came.
      if (at > 0 && takeBack(thread, thread.queue[at]!)) {
        this.#send({ cancelled: id });
        this.#dispatch();
      }
      return;
    }
  }

  /** An idle thread takes the last queued task of the busiest thread with its heap cap, if any. */
  #steal(idle: Thread): void {
    const busiest = this.#busiestThread(idle);
    const last = busiest?.queue.at(-1);
    if (!busiest || !last || !takeBack(busiest, last)) return;
    this.#waiting.unshift(last.task);
    this.#dispatch();
  }

  /** The thread holding the most tasks, two or more; only those with `besides`'s heap cap. */
  #busiestThread(besides?: Thread): Thread | undefined {
    let busiest: Thread | undefined;
    for (const thread of this.#threads) {
      if (thread === besides || thread.queue.length < 2) continue;
      if (besides && thread.key !== besides.key) continue;
      if (!busiest || thread.queue.length > busiest.queue.length) busiest = thread;
    }
    return busiest;
  }

  #start(key: string, memoryMb: number | undefined): Thread {
    const { port1, port2 } = new MessageChannel();
    const states = new Int32Array(new SharedArrayBuffer(THREAD_QUEUE * 4));
    const replies = ReplyRing.allocate(RING_BYTES);
    const setup: RunnerSetup = {
      port: port2,
      states: states.buffer as SharedArrayBuffer,
      replies,
      callAt: REFILL_AT,
    };
    const worker = startRunnerThread(this.#runners, {
      memoryMb,
      ...(this.#permissions ? { permissions: this.#permissions } : {}),
      onEnd: (how) => this.#died(thread, how),
    });
    worker.postMessage(setup, [port2]);
    const thread: Thread = {
      id: this.#nextThreadId++,
      key,
      worker,
      port: port1,
      states,
      ring: new ReplyRing(replies),
      awaitingPost: undefined,
      queue: [],
      freeSlots: Array.from({ length: THREAD_QUEUE }, (_, slot) => THREAD_QUEUE - 1 - slot),
      ran: false,
      retired: false,
    };
    this.#threads.add(thread);
    port1.onmessage = (event: MessageEvent<RunnerMessage>) => {
      const message = event.data;
      if ("died" in message) {
        const { id: _, ...how } = message;
        this.#died(thread, how);
      } else if ("ok" in message) {
        this.#readRing(thread); // the replies before it, up to its place
        this.#replied(thread, message);
        thread.awaitingPost = undefined;
        this.#readRing(thread); // and those after it
      } else this.#readRing(thread);
      this.#afterReading();
    };
    return thread;
  }

  /**
   * Sends on the replies waiting in `thread`'s ring, each with the task that started next on
   * that thread, if it did. Reading stops at the place of a reply that was posted, until it
   * comes; `pastPosted` reads on (for a thread that ended: what it posted may never come).
   */
  #readRing(thread: Thread, pastPosted = false): void {
    if (thread.retired || (thread.awaitingPost !== undefined && !pastPosted)) return;
    thread.ring.answerCall();
    thread.ring.read((id, json) => {
      if (json.byteLength === 0) {
        if (pastPosted) return true;
        thread.awaitingPost = id;
        return false;
      }
      const next = this.#ended(thread, id);
      if (!this.#closed) this.#out.reply(thread.id, next, json);
      return true;
    });
  }

  /** A posted reply of `thread`'s: it goes out as a ring's would. */
  #replied(thread: Thread, reply: RunnerReply & { id: number }): void {
    const next = this.#ended(thread, reply.id);
    this.#send(
      { ...reply, worker: thread.id, ...(next === undefined ? {} : { next }) } as HostMessage,
    );
  }

  /**
   * Task `id` of `thread` ended: it leaves the thread's queue; if the owner was not told it
   * started (it started with no reply to carry it, and ended before the host looked), it is told
   * now, before its reply. Returns the task that started after it, if the owner has not been
   * told yet: the thread claims the next task before it answers.
   */
  #ended(thread: Thread, id: number): number | undefined {
    thread.ran = true;
    const at = thread.queue.findIndex(({ task }) => task.id === id);
    if (at >= 0) {
      const [{ announced, slot }] = thread.queue.splice(at, 1) as [Queued];
      thread.freeSlots.push(slot);
      if (!announced) this.#send({ started: id });
    }
    return newlyStarted(thread);
  }

  /**
   * After replies were read: tasks that started with no reply to carry them are announced, the
   * threads are topped up, and an empty thread takes work from the busiest.
   */
  #afterReading(): void {
    if (this.#closed) return;
    for (const thread of this.#threads) {
      const started = newlyStarted(thread);
      if (started !== undefined) this.#send({ started });
    }
    this.#dispatch();
    for (const thread of this.#threads) if (thread.queue.length === 0) this.#steal(thread);
  }

  /**
   * `thread` ended (or failed outside a task): the tasks it started and has not answered fail
   * (the running one, and any whose reply the thread's end overtook); those it had not started
   * wait again, first in line. A thread that ended before it began any task could not start (its
   * runner's modules would not load, say): its tasks fail with why, for a thread started in its
   * place would fail the same way, and again, for ever.
   */
  #died(thread: Thread, how: ThreadDeath): void {
    if (thread.retired) return; // retired on purpose, or already reported
    this.#readRing(thread, true); // what it answered before it died
    this.#retire(thread);
    const queued = thread.queue;
    thread.queue = [];
    const couldNotStart = !thread.ran &&
      !queued.some(({ task, slot }) => taskStarted(thread.states, slot, task.id));
    const back: HostTask[] = [];
    for (const { task, slot, announced } of queued) {
      if (!couldNotStart && takeTaskBack(thread.states, slot, task.id)) back.push(task);
      else {
        if (!announced) this.#send({ started: task.id });
        this.#send({ id: task.id, worker: thread.id, ...how });
      }
    }
    if (this.#closed) return;
    this.#waiting.unshift(...back);
    this.#dispatch();
    this.#replaceIfNeeded();
  }

  /** With a thread short and nothing waiting, a new thread takes work from the busiest one. */
  #replaceIfNeeded(): void {
    if (this.#threads.size >= this.#size || this.#waiting.length > 0) return;
    const busiest = this.#busiestThread();
    const last = busiest?.queue.at(-1);
    if (busiest && last) this.#steal(this.#start(busiest.key, last.task.memoryMb));
  }

  #retire(thread: Thread): void {
    thread.retired = true;
    this.#threads.delete(thread);
    thread.port.close();
    thread.worker.terminate();
  }
}

/** Takes `queued` back from `thread` if it has not started; true if it was taken. */
function takeBack(thread: Thread, queued: Queued): boolean {
  const { slot, task: { id } } = queued;
  if (!takeTaskBack(thread.states, slot, id)) return false;
  thread.queue.splice(thread.queue.indexOf(queued), 1);
  thread.freeSlots.push(slot);
  return true;
}

/** The first task of `thread`'s queue if it started and the owner was not told; now it is told. */
function newlyStarted(thread: Thread): number | undefined {
  const head = thread.queue[0];
  if (!head || head.announced) return undefined;
  if (!taskStarted(thread.states, head.slot, head.task.id)) return undefined;
  head.announced = true;
  return head.task.id;
}

function keyOf(memoryMb: number | undefined): string {
  return memoryMb === undefined ? "" : String(memoryMb);
}
