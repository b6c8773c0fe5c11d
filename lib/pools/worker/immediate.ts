/**
 * A macrotask soon, with no `node:` module: for a runner thread that is a web Worker, where
 * loading `node:timers` for its `setImmediate` would be a large part of the thread's start.
 *
 * Callbacks run in the order they were scheduled, each in a turn of the event loop of its own
 * (a message on a channel), after the current turn's promise jobs. Unlike `setTimeout(0)`, a
 * chain of them is not clamped to 4 ms a link.
 *
 * Not for a `node:worker_threads` thread with a heap cap: there, running out of heap inside a
 * message handler stalls the thread instead of ending it (Deno 2.9.6); use `setImmediate`.
 *
 * @module
 */

/** Runs `callback` in a later turn of the event loop. */
export type Immediate = (callback: () => void) => void;

/** An {@linkcode Immediate} on a channel of its own, which `close` ends. */
export interface ChannelImmediate extends Immediate {
  /** Closes the channel: callbacks not yet run never run. */
  close(): void;
}

/**
 * An {@linkcode Immediate} on a new `MessageChannel`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelImmediate } from "./immediate.ts";
 * const immediate = channelImmediate();
 * const order: string[] = [];
 * await new Promise<void>((done) => {
 *   immediate(() => order.push("first"));
 *   immediate(() => done());
 *   order.push("now");
 * });
 * immediate.close();
 * assert(order.join() === "now,first");
 * ```
 */
export function channelImmediate(): ChannelImmediate {
  const { port1, port2 } = new MessageChannel();
  const due: (() => void)[] = [];
  // One message per callback: one that throws leaves the others to run in their own turns.
  port1.onmessage = () => due.shift()?.();
  const immediate = (callback: () => void) => {
    due.push(callback);
    port2.postMessage(undefined);
  };
  return Object.assign(immediate, {
    close() {
      due.length = 0;
      port1.close();
      port2.close();
    },
  });
}
