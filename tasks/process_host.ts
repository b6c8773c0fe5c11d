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
import { encodeFrame, readFrames } from "../lib/pools/frames.ts";
import type { ComputeTask } from "../lib/pools/task.ts";
import { callTask } from "./call_task.ts";

/** What a host says besides replies: the task called `Deno.exit(code)`. */
export interface HostExit {
  id: number;
  exit: number;
}

for (const name of ["log", "info", "debug", "dir", "table"] as const) {
  console[name] = console.error.bind(console);
}

let current = 0;
const exit = Deno.exit;
Deno.exit = (code?: number): never => {
  send({ id: current, exit: code ?? 0 } satisfies HostExit);
  return exit(code);
};

for await (const message of readFrames(Deno.stdin.readable)) {
  const { id, ...task } = message as ComputeTask & { id: number };
  current = id;
  send(await callTask(id, task));
}

function send(value: unknown): void {
  const frame = encodeFrame(value);
  let written = 0;
  while (written < frame.byteLength) written += Deno.stdout.writeSync(frame.subarray(written));
}
