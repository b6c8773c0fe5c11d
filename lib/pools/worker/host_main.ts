/**
 * The process the Worker pool's threads live in (`isolation: worker`), started with one job
 * profile's least privileges as `deno run` flags: a {@linkcode ThreadHost} whose threads inherit
 * the process's permissions (`Deno.args[0]` of them, with the heap cap `Deno.args[1]` of the
 * first task). Tasks and cancels come framed on stdin; what the threads say goes out framed on
 * stdout, the frames of one turn of the event loop together, with the process's memory now and
 * then while threads are busy.
 *
 * taskpool kills this whole process to stop a thread stuck in a busy loop, which no Worker can
 * stop from inside; see {@linkcode ./worker_pool.ts}.
 *
 * @module
 */
import { readFrameBatches } from "../frames.ts";
import type { HostMessage, HostRequest } from "../protocol.ts";
import { queueFrame, queueFrameBytes } from "../host_channel.ts";
import { ThreadHost } from "./thread_host.ts";

const MEMORY_EVERY_MS = 100;

// Siblings in both layouts: lib/pools/worker/*.ts from source, dist/lib/pools/worker/*.js in the
// bundle. (ownFileUrl would resolve from where the bundler inlined it, one folder off here.)
const sibling = (name: string) =>
  new URL(`./${name}${import.meta.url.endsWith(".js") ? ".js" : ".ts"}`, import.meta.url);
const RUNNERS = { web: sibling("web_runner"), node: sibling("node_runner") };

const encoder = new TextEncoder();
const host = new ThreadHost({
  size: Number(Deno.args[0] ?? 1),
  firstMemoryMb: Deno.args[1] ? Number(Deno.args[1]) : undefined,
  runners: RUNNERS,
  out: {
    message: queueFrame,
    // The reply's JSON goes on as it came, with `worker` and `next` put in front.
    reply(worker, next, json) {
      const head = `{"worker":${worker},${next === undefined ? "" : `"next":${next},`}`;
      queueFrameBytes(encoder.encode(head), json.subarray(1));
    },
  },
});

// Say how much memory this process holds, its threads' heaps included, now and then while busy.
const memoryTimer = setInterval(() => {
  if (host.busy) sendMemory();
}, MEMORY_EVERY_MS);
Deno.unrefTimer(memoryTimer);
sendMemory();

for await (const requests of readFrameBatches(Deno.stdin)) host.take(requests as HostRequest[]);
// taskpool closed the pool: end now, whatever threads still hold on.
Deno.exit(0);

function sendMemory(): void {
  queueFrame({ rss: Deno.memoryUsage().rss } satisfies HostMessage);
}
