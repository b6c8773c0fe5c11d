/**
 * A host process's side of its channel to taskpool: frames written whole to stdout. (Console
 * output goes to stderr: see {@linkcode ./console_to_stderr.ts}.)
 *
 * @module
 */
import { encodeFrame } from "../lib/pools/frames.ts";

/** Writes `message` as one frame on stdout, whole, before returning. */
export function sendFrame(message: unknown): void {
  const frame = encodeFrame(message);
  let written = 0;
  while (written < frame.byteLength) written += Deno.stdout.writeSync(frame.subarray(written));
}
