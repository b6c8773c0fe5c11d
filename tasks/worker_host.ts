/**
 * The process the Worker pool's threads live in (`isolation: worker`), started with one job
 * profile's least privileges as `deno run` flags. It reads tasks framed on stdin and runs each on
 * a {@linkcode ./worker_runner.ts | runner} thread (`node:worker_threads`) with the task's heap
 * cap; threads inherit the process's permissions, are started at once (`Deno.args[0]` of them,
 * with the heap cap `Deno.args[1]` of the first task), reused, and replaced as tasks need.
 * Tasks beyond the threads wait here, first come first served, and start the moment a thread is
 * free. Each reply, or how a thread died under its task, is written framed on stdout, with the
 * task that started next in its place; a task that started at once is announced (`started`).
 * A `cancel` drops a task that is still waiting.
 *
 * taskpool kills this whole process to stop a thread stuck in a busy loop, which no Worker can
 * stop from inside; see {@linkcode ../lib/pools/worker_pool.ts}.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { readFrames } from "../lib/pools/frames.ts";
import type { ComputeTask, TaskReply } from "../lib/pools/task.ts";
import type { HostMessage, HostRequest, HostTask, ThreadDeath } from "../lib/pools/worker_pool.ts";
import { sendFrame } from "./host_channel.ts";

// A sibling in both layouts: tasks/*.ts from source, dist/tasks/*.js in the bundle.
const RUNNER = new URL(
  import.meta.url.endsWith(".js") ? "./worker_runner.js" : "./worker_runner.ts",
  import.meta.url,
);

interface Thread {
  id: number;
  /** Its heap cap in MiB, or "" for V8's default. */
  key: string;
  worker: Worker;
  /** Where its tasks and replies go. */
  port: MessagePort;
  /** The task it runs, if any. */
  task: number | undefined;
  retired: boolean;
}

const size = Number(Deno.args[0] ?? 1);
const firstMemoryMb = Deno.args[1] ? Number(Deno.args[1]) : undefined;
const threads = new Set<Thread>();
const idle: Thread[] = [];
/** Tasks waiting for a thread, first come first served. */
const waiting: HostTask[] = [];
/** Tasks on a thread now. */
let running = 0;
let nextThreadId = 1;
const MEMORY_EVERY_MS = 100;

// Say how much memory this process holds, its threads' heaps included, now and then while busy.
const memoryTimer = setInterval(() => {
  if (running > 0) sendFrame({ rss: Deno.memoryUsage().rss } satisfies HostMessage);
}, MEMORY_EVERY_MS);
Deno.unrefTimer(memoryTimer);
sendFrame({ rss: Deno.memoryUsage().rss } satisfies HostMessage);

// Start the pool's threads at once, with the first task's heap cap, while that task is on its
// way: a thread takes about 90 ms to start, which the second task would otherwise wait for.
for (let i = 0; i < size; i++) idle.push(start(keyOf(firstMemoryMb), firstMemoryMb));

for await (const message of readFrames(Deno.stdin)) {
  const request = message as HostRequest;
  if ("cancel" in request) {
    const index = waiting.findIndex((task) => task.id === request.cancel);
    if (index < 0) continue; // started already: its reply will come
    waiting.splice(index, 1);
    sendFrame({ cancelled: request.cancel } satisfies HostMessage);
  } else if (running < size) {
    begin(request);
    sendFrame({ started: request.id } satisfies HostMessage);
  } else waiting.push(request);
}
// taskpool closed the pool: end now, whatever threads still hold on.
Deno.exit(0);

function begin({ id, task, memoryMb }: HostTask): void {
  running++;
  const thread = take(memoryMb);
  thread.task = id;
  thread.port.postMessage({ id, ...task } satisfies ComputeTask & { id: number });
}

/** Starts the first waiting task, if any; its id goes with the reply that freed its place. */
function beginNext(): { next?: number } {
  const next = waiting.shift();
  if (!next) return {};
  begin(next);
  return { next: next.id };
}

function keyOf(memoryMb: number | undefined): string {
  return memoryMb === undefined ? "" : String(memoryMb);
}

function take(memoryMb: number | undefined): Thread {
  const key = keyOf(memoryMb);
  const index = idle.findIndex((thread) => thread.key === key);
  if (index >= 0) return idle.splice(index, 1)[0]!;
  // taskpool sends no more tasks than the pool's size, so a thread is idle if the pool is full.
  if (threads.size >= size && idle.length > 0) retire(idle.shift()!);
  return start(key, memoryMb);
}

function start(key: string, memoryMb: number | undefined): Thread {
  const worker = new Worker(RUNNER, {
    ...(memoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: memoryMb } }),
  });
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ port: port2 }, [port2 as never]);
  const thread: Thread = {
    id: nextThreadId++,
    key,
    worker,
    port: port1,
    task: undefined,
    retired: false,
  };
  threads.add(thread);
  let death: ThreadDeath | undefined;
  const died = (how: ThreadDeath) => {
    if (thread.retired) return; // retired on purpose, or already reported
    const task = thread.task;
    retire(thread);
    if (task === undefined) return;
    running--;
    sendFrame({ id: task, worker: thread.id, ...how, ...beginNext() } satisfies HostMessage);
  };
  port1.onmessage = (event: MessageEvent<TaskReply | (ThreadDeath & { id: number })>) => {
    const message = event.data;
    if ("died" in message) return died(message);
    thread.task = undefined;
    idle.push(thread);
    running--;
    sendFrame({ ...message, worker: thread.id, ...beginNext() } satisfies HostMessage);
  };
  worker.on("error", (error: Error & { code?: string }) => {
    death ??= error?.code === "ERR_WORKER_OUT_OF_MEMORY"
      ? { died: "oom" }
      : { died: "error", message: String(error?.message ?? error) };
  });
  worker.on("exit", (code: number) => died(death ?? { died: "exit", code }));
  return thread;
}

function retire(thread: Thread): void {
  thread.retired = true;
  threads.delete(thread);
  const index = idle.indexOf(thread);
  if (index >= 0) idle.splice(index, 1);
  thread.port.close();
  thread.worker.terminate();
}
