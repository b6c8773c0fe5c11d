/**
 * A host process's side of its channel to taskpool: frames on stdout, written whole. (Console
 * output goes to stderr: see {@linkcode ./console_to_stderr.ts}.)
 *
 * @module
 */
import { FrameOutbox } from "./frame_outbox.ts";
import { encodeFrame, frameOfBody } from "./frames.ts";

/** Writes `message` as one frame on stdout, whole, before returning (say, before an exit). */
export function sendFrame(message: unknown): void {
  writeAll(encodeFrame(message));
}

let outbox: FrameOutbox | undefined;

/**
 * Queues `message` as a frame on stdout, written with the others of this turn of the event loop
 * in one block; frames keep their order. Not for a message that must be out before an exit.
 */
export function queueFrame(message: unknown): void {
  (outbox ??= new FrameOutbox(writeAll)).push(encodeFrame(message));
}

/**
 * Queues a frame whose body is `parts` joined (JSON text already encoded), as
 * {@linkcode queueFrame} would queue it.
 */
export function queueFrameBytes(...parts: Uint8Array[]): void {
  (outbox ??= new FrameOutbox(writeAll)).push(frameOfBody(parts));
}

function writeAll(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += Deno.stdout.writeSync(bytes.subarray(written));
}
