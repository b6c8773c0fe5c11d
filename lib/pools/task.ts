/**
 * What both compute pools carry: a task (call this export of this module with these arguments)
 * and its reply. The same shapes cross a Worker's message port and a host process's frames.
 *
 * @module
 */
import { ComputeError } from "../errors.ts";
import { encodeFrame } from "./frames.ts";

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

/**
 * The frame carrying `message` (a task and its id) to a host.
 *
 * @throws {ComputeError} when the arguments cannot be structured-cloned (a function, say); the
 * message names the `destination` ("a Worker", "a process")
 */
/** A host's resident memory in bytes, sent now and then so taskpool can sum its processes. */
export interface HostMemory {
  rss: number;
}

export function encodeTaskFrame(message: unknown, destination: string): Uint8Array {
  try {
    return encodeFrame(message);
  } catch (error) {
    throw new ComputeError(
      `arguments cannot be sent to ${destination}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
