/**
 * What compute code finds on stdin: nothing, at once, as a command job's stdin (`/dev/null`).
 * The process's real stdin carries taskpool's own traffic (a host's frames, the launcher's link
 * to a run's child): a task that read it would wait for input that never comes, until its
 * timeout or for ever, or take bytes meant for taskpool.
 *
 * @module
 */

/**
 * Replaces `Deno.stdin`, in this thread, with one at its end: `read` resolves `null`, `readable`
 * closes at once, it is no terminal. Call it before any task's module loads; whoever reads the
 * real stdin keeps the value it had before (the returned one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hideStdin } from "./empty_stdin.ts";
 * const real = Deno.stdin;
 * const stdin = hideStdin();
 * try {
 *   assert.equal(stdin, real);
 *   assert.equal(await Deno.stdin.read(new Uint8Array(8)), null);
 *   assert.deepEqual(await Array.fromAsync(Deno.stdin.readable), []);
 *   assert.equal(Deno.stdin.isTerminal(), false);
 * } finally {
 *   Object.defineProperty(Deno, "stdin", { value: real, configurable: true, writable: true });
 * }
 * ```
 */
export function hideStdin(): typeof Deno.stdin {
  const real = Deno.stdin;
  const empty = {
    read: (_buffer: Uint8Array) => Promise.resolve(null),
    readSync: (_buffer: Uint8Array) => null,
    isTerminal: () => false,
    setRaw: () => {
      throw new Deno.errors.NotSupported("a compute task's stdin is not a terminal");
    },
    close: () => {},
    get readable() {
      return new ReadableStream<Uint8Array<ArrayBuffer>>({
        start: (controller) => controller.close(),
      });
    },
    [Symbol.dispose]: () => {},
  };
  Object.defineProperty(Deno, "stdin", { value: empty, configurable: true, writable: true });
  return real;
}
