/**
 * The process the Worker pool's threads live in (`isolation: worker`), started with one job
 * profile's least privileges as `deno run` flags. It reads tasks framed on stdin and runs each on
 * a {@linkcode ./worker_runner.ts | runner} {@linkcode ./runner_thread.ts | thread} with the
 * task's heap cap; threads inherit the process's permissions, are started at once
 * (`Deno.args[0]` of them, with the heap cap `Deno.args[1]` of the first task), reused, and
 * replaced as tasks need.
 *
 * Each thread holds a short queue of its own (up to {@linkcode THREAD_QUEUE} tasks, topped up
 * in one message when it falls to {@linkcode REFILL_AT}), so it goes from one tiny task to the
 * next without waiting for this process. The first task in a thread's queue is the one running.
 * Tasks beyond the threads' queues wait here, first come first served. This process can take a
 * task back from a thread's queue at any time, even from a thread stuck in a loop, through the
 * task states they share (see {@linkcode RunnerTask}): whichever of the two swaps the task's slot
 * first decides whether it runs. So a thread whose queue runs dry takes the last queued task of
 * the busiest thread, and no task waits behind a long one while a thread is idle.
 *
 * Threads answer through {@linkcode ReplyRing | reply rings} in shared memory, read when a
 * thread calls (it runs low on tasks), when taskpool's frames come, and every
 * {@linkcode READ_EVERY_MS} ms while threads hold tasks.
 * Each reply, or how a thread died under its task, is written framed on stdout with the task
 * that started next on that thread (`next`); any other task that starts is announced
 * (`started`). A `cancel` from taskpool drops a task that has not started (`cancelled`); one
 * that has started goes on, and its reply comes. Frames go out together, once per turn of the
 * event loop.
 *
 * taskpool kills this whole process to stop a thread stuck in a busy loop, which no Worker can
 * stop from inside; see {@linkcode ../lib/pools/worker_pool.ts}.
 *
 * @module
 */
import { readFrameBatches } from "../lib/pools/frames.ts";
import { ReplyRing } from "../lib/pools/reply_ring.ts";
import type {
  HostMessage,
  HostRequest,
  HostTask,
  RunnerMessage,
  RunnerReply,
  RunnerSetup,
  RunnerTask,
  ThreadDeath,
} from "../lib/pools/worker_pool.ts";
import { queueFrame, queueFrameBytes } from "./host_channel.ts";
import { type RunnerThread, startRunnerThread } from "./runner_thread.ts";

// A sibling in both layouts: tasks/*.ts from source, dist/tasks/*.js in the bundle.
const RUNNER = new URL(
  import.meta.url.endsWith(".js") ? "./worker_runner.js" : "./worker_runner.ts",
  import.meta.url,
);

/** The most tasks a thread holds, the running one included. */
const THREAD_QUEUE = 8;
/** A thread is topped up when it holds this many tasks or fewer. */
const REFILL_AT = 4;
/** Room for replies in a thread's ring; a reply that does not fit is posted. */
const RING_BYTES = 256 * 1024;
/**
 * While threads hold tasks, their rings are read at least this often: replies that came while
 * a thread held enough tasks not to call, or before a long task, wait no longer.
 */
const READ_EVERY_MS = 2;
const MEMORY_EVERY_MS = 100;

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
  retired: boolean;
}

/** A task in a thread's queue, and its slot in the thread's states. */
interface Queued {
  task: HostTask;
  slot: number;
  /** taskpool was told it started. */
  announced: boolean;
}

const size = Number(Deno.args[0] ?? 1);
const firstMemoryMb = Deno.args[1] ? Number(Deno.args[1]) : undefined;
const threads = new Set<Thread>();
/** Tasks waiting for room in a thread, first come first served. */
const waiting: HostTask[] = [];
let nextThreadId = 1;
const encoder = new TextEncoder();

// Read the threads' rings now and then while they hold tasks (see READ_EVERY_MS).
let readTimer: ReturnType<typeof setInterval> | undefined;

// Say how much memory this process holds, its threads' heaps included, now and then while busy.
const memoryTimer = setInterval(() => {
  if ([...threads].some((thread) => thread.queue.length > 0)) sendMemory();
}, MEMORY_EVERY_MS);
Deno.unrefTimer(memoryTimer);
sendMemory();

// Start the pool's threads at once, with the first task's heap cap, while that task is on its
// way: a thread takes 18-60 ms to start, which the second task would otherwise wait for.
for (let i = 0; i < size; i++) start(keyOf(firstMemoryMb), firstMemoryMb);

for await (const requests of readFrameBatches(Deno.stdin)) {
  // Awake anyway: take the replies waiting in the rings first.
  for (const thread of threads) readRing(thread);
  for (const request of requests as HostRequest[]) {
    if ("cancel" in request) cancel(request.cancel);
    else waiting.push(request);
  }
  afterReading();
}
// taskpool closed the pool: end now, whatever threads still hold on.
Deno.exit(0);

function sendMemory(): void {
  queueFrame({ rss: Deno.memoryUsage().rss } satisfies HostMessage);
}

/** Moves waiting tasks into threads' queues, in order, with one message per thread. */
function dispatch(): void {
  const batches = new Map<Thread, RunnerTask[]>();
  while (waiting.length > 0) {
    const thread = threadFor(waiting[0]!, batches);
    if (!thread) break;
    const { id, task } = waiting[0]!;
    const slot = freeSlot(thread);
    Atomics.store(thread.states, slot, id);
    const announced = thread.queue.length === 0; // it starts at once: said below
    thread.queue.push({ task: waiting.shift()!, slot, announced });
    const batch = batches.get(thread);
    if (batch) batch.push({ id, slot, ...task });
    else batches.set(thread, [{ id, slot, ...task }]);
  }
  for (const [thread, batch] of batches) {
    thread.port.postMessage(batch);
    if (thread.queue.length === batch.length) queueFrame({ started: batch[0]!.id });
  }
  if (batches.size > 0) readRegularly();
}

/** Starts reading the rings every {@linkcode READ_EVERY_MS} until no thread holds a task. */
function readRegularly(): void {
  readTimer ??= setInterval(() => {
    for (const thread of threads) readRing(thread);
    afterReading();
    if ([...threads].every((thread) => thread.queue.length === 0)) {
      clearInterval(readTimer);
      readTimer = undefined;
    }
  }, READ_EVERY_MS);
}

/** A slot of `thread`'s states that none of its tasks holds. */
function freeSlot(thread: Thread): number {
  const held = new Set(thread.queue.map(({ slot }) => slot));
  let slot = 0;
  while (held.has(slot)) slot++;
  return slot;
}

/** Takes `queued` back from `thread` if it has not started; true if it was taken. */
function takeBack(thread: Thread, queued: Queued): boolean {
  const { slot, task: { id } } = queued;
  if (Atomics.compareExchange(thread.states, slot, id, 0) !== id) return false;
  thread.queue.splice(thread.queue.indexOf(queued), 1);
  return true;
}

/**
 * The thread to queue `task` on: one with its heap cap and room, topped up in this pass or low
 * enough to be, the emptiest first; or a new one, in place of an idle thread with another cap.
 */
function threadFor(task: HostTask, batches: ReadonlyMap<Thread, unknown>): Thread | undefined {
  const key = keyOf(task.memoryMb);
  let best: Thread | undefined;
  let sameKey = false;
  for (const thread of threads) {
    if (thread.key !== key) continue;
    sameKey = true;
    const room = thread.queue.length < THREAD_QUEUE &&
      (thread.queue.length <= REFILL_AT || batches.has(thread));
    if (room && (!best || thread.queue.length < best.queue.length)) best = thread;
  }
  if (best || sameKey && threads.size >= size) return best;
  if (threads.size >= size) {
    const idle = [...threads].find((thread) => thread.queue.length === 0);
    if (!idle) return undefined;
    retire(idle);
  }
  return start(key, task.memoryMb);
}

/** taskpool gave up task `id`: dropped if it has not started, else left to finish. */
function cancel(id: number): void {
  const index = waiting.findIndex((task) => task.id === id);
  if (index >= 0) {
    waiting.splice(index, 1);
    return queueFrame({ cancelled: id } satisfies HostMessage);
  }
  for (const thread of threads) {
    const at = thread.queue.findIndex(({ task }) => task.id === id);
    if (at < 0) continue;
    // The first is running; a later one may have started as the reply before it came.
    if (at > 0 && takeBack(thread, thread.queue[at]!)) {
      queueFrame({ cancelled: id } satisfies HostMessage);
      dispatch();
    }
    return;
  }
}

/** An idle thread takes the last queued task of the busiest thread with its heap cap, if any. */
function steal(idle: Thread): void {
  const busiest = busiestThread(idle);
  const last = busiest?.queue.at(-1);
  if (!busiest || !last || !takeBack(busiest, last)) return;
  waiting.unshift(last.task);
  dispatch();
}

/** The thread holding the most tasks, two or more; only those with `besides`'s heap cap. */
function busiestThread(besides?: Thread): Thread | undefined {
  let busiest: Thread | undefined;
  for (const thread of threads) {
    if (thread === besides || thread.queue.length < 2) continue;
    if (besides && thread.key !== besides.key) continue;
    if (!busiest || thread.queue.length > busiest.queue.length) busiest = thread;
  }
  return busiest;
}

function keyOf(memoryMb: number | undefined): string {
  return memoryMb === undefined ? "" : String(memoryMb);
}

function start(key: string, memoryMb: number | undefined): Thread {
  const { port1, port2 } = new MessageChannel();
  const states = new Int32Array(new SharedArrayBuffer(THREAD_QUEUE * 4));
  const replies = ReplyRing.allocate(RING_BYTES);
  const setup: RunnerSetup = {
    port: port2,
    states: states.buffer as SharedArrayBuffer,
    replies,
    callAt: REFILL_AT,
  };
  const worker = startRunnerThread(RUNNER, { memoryMb, onEnd: (how) => died(thread, how) });
  worker.postMessage(setup, [port2]);
  const thread: Thread = {
    id: nextThreadId++,
    key,
    worker,
    port: port1,
    states,
    ring: new ReplyRing(replies),
    awaitingPost: undefined,
    queue: [],
    retired: false,
  };
  threads.add(thread);
  port1.onmessage = (event: MessageEvent<RunnerMessage>) => {
    const message = event.data;
    if ("died" in message) {
      const { id: _, ...how } = message;
      died(thread, how);
    } else if ("ok" in message) {
      readRing(thread); // the replies before it, up to its place
      replied(thread, message);
      thread.awaitingPost = undefined;
      readRing(thread); // and those after it
    } else readRing(thread);
    afterReading();
  };
  return thread;
}

/**
 * Sends on the replies waiting in `thread`'s ring, each with the task that started next on that
 * thread, if it did. The reply's JSON goes on as it came, with `worker` and `next` put in front.
 * Reading stops at the place of a reply that was posted, until it comes; `pastPosted` reads on
 * (for a thread that ended: what it posted may never come).
 */
function readRing(thread: Thread, pastPosted = false): void {
  if (thread.retired || (thread.awaitingPost !== undefined && !pastPosted)) return;
  thread.ring.answerCall();
  thread.ring.read((id, json) => {
    if (json.byteLength === 0) {
      if (pastPosted) return true;
      thread.awaitingPost = id;
      return false;
    }
    const next = ended(thread, id);
    const head = `{"worker":${thread.id},${next === undefined ? "" : `"next":${next},`}`;
    queueFrameBytes(encoder.encode(head), json.subarray(1));
    return true;
  });
}

/** A posted reply of `thread`'s: it goes out as a ring's would. */
function replied(thread: Thread, reply: RunnerReply & { id: number }): void {
  const next = ended(thread, reply.id);
  queueFrame(
    { ...reply, worker: thread.id, ...(next === undefined ? {} : { next }) } as HostMessage,
  );
}

/**
 * Task `id` of `thread` ended: it leaves the thread's queue; if taskpool was not told it started
 * (it started with no reply to carry it, and ended before the host looked), it is told now,
 * before its reply. Returns the task that started after it, if taskpool has not been told yet:
 * the thread claims the next task before it answers.
 */
function ended(thread: Thread, id: number): number | undefined {
  const at = thread.queue.findIndex(({ task }) => task.id === id);
  if (at >= 0) {
    const [{ announced }] = thread.queue.splice(at, 1) as [Queued];
    if (!announced) queueFrame({ started: id } satisfies HostMessage);
  }
  return newlyStarted(thread);
}

/** The first task of `thread`'s queue if it started and taskpool was not told; now it is told. */
function newlyStarted(thread: Thread): number | undefined {
  const head = thread.queue[0];
  if (!head || head.announced) return undefined;
  if (Atomics.load(thread.states, head.slot) !== -head.task.id) return undefined;
  head.announced = true;
  return head.task.id;
}

/**
 * After replies were read: tasks that started with no reply to carry them are announced, the
 * threads are topped up, and an empty thread takes work from the busiest.
 */
function afterReading(): void {
  for (const thread of threads) {
    const started = newlyStarted(thread);
    if (started !== undefined) queueFrame({ started } satisfies HostMessage);
  }
  dispatch();
  for (const thread of threads) if (thread.queue.length === 0) steal(thread);
}

/**
 * `thread` ended (or failed outside a task): the tasks it started and has not answered fail
 * (the running one, and any whose reply the thread's end overtook); those it had not started
 * wait again, first in line.
 */
function died(thread: Thread, how: ThreadDeath): void {
  if (thread.retired) return; // retired on purpose, or already reported
  readRing(thread, true); // what it answered before it died
  retire(thread);
  const queued = thread.queue;
  thread.queue = [];
  const back: HostTask[] = [];
  for (const { task, slot, announced } of queued) {
    if (Atomics.compareExchange(thread.states, slot, task.id, 0) === task.id) back.push(task);
    else {
      if (!announced) queueFrame({ started: task.id } satisfies HostMessage);
      queueFrame({ id: task.id, worker: thread.id, ...how } satisfies HostMessage);
    }
  }
  waiting.unshift(...back);
  dispatch();
  replaceIfNeeded();
}

/** With a thread short and nothing waiting, a new thread takes work from the busiest one. */
function replaceIfNeeded(): void {
  if (threads.size >= size || waiting.length > 0) return;
  const busiest = busiestThread();
  const last = busiest?.queue.at(-1);
  if (busiest && last) steal(start(busiest.key, last.task.memoryMb));
}

function retire(thread: Thread): void {
  thread.retired = true;
  threads.delete(thread);
  thread.port.close();
  thread.worker.terminate();
}
