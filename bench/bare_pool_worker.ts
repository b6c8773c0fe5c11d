/**
 * The Worker of the bare pool baseline (bench/cpu.ts): calls count(n) for each message and
 * posts the result back. No permissions, no framing, no report: the floor to compare with.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import count from "../tasks/compute/builtin/count.ts";

self.onmessage = (event: MessageEvent<{ id: number; n: number }>) => {
  self.postMessage({ id: event.data.id, value: count(event.data.n) });
};
