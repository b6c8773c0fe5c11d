/**
 * The entry point of a compute host process (`isolation: process`): reads tasks framed on stdin,
 * runs them one at a time with {@linkcode callTask}, and writes each reply framed on stdout. The
 * process runs with the job's permissions and heap cap as `deno run` flags; taskpool kills it
 * when a task times out, and sees an exit (Deno.exit, out of memory) as the task's failure.
 *
 * stdout carries the frames, so console output is sent to stderr.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { readFrames } from "../frames.ts";
import type { ComputeTask, HostMemory } from "../protocol.ts";
import { callTask } from "../call_task.ts";
import { consoleToStderr } from "../console_to_stderr.ts";
import { sendFrame } from "../host_channel.ts";
import { hideStdin } from "../empty_stdin.ts";

/** What a host says besides replies: the task called `Deno.exit(code)`. */
export interface HostExit {
  id: number;
  exit: number;
}

consoleToStderr();
// The tasks come on stdin; a task that read it would find nothing, not take the next one.
const tasks = hideStdin();

let current = 0;
const exit = Deno.exit;
Deno.exit = (code?: number): never => {
  sendFrame({ id: current, exit: code ?? 0 } satisfies HostExit);
  return exit(code);
};

for await (const message of readFrames(tasks)) {
  const { id, ...task } = message as ComputeTask & { id: number };
  current = id;
  const reply = await callTask(id, task, setImmediate);
  sendFrame({ rss: Deno.memoryUsage().rss } satisfies HostMemory);
  sendFrame(reply);
}
