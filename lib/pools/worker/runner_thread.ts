/**
 * A runner thread of a {@linkcode ./host_main.ts | Worker host}, of one of two kinds:
 *
 * - with no heap cap, a web `Worker` running {@linkcode ./web_runner.ts}: the quicker to start,
 *   though its creation holds the host's thread for a while;
 * - with a heap cap (`memory:`), a `node:worker_threads` Worker with `resourceLimits`, running
 *   {@linkcode ./node_runner.ts}: running out of heap ends that thread alone, with an event; but
 *   it starts several times more slowly, and its creation holds the host's thread longer.
 *
 * Without a cap, a thread that runs out of heap ends the whole process, whatever its kind.
 * `Deno.exit` in a web Worker ends it with no event: the runner reports it itself (see
 * {@linkcode ./runner_loop.ts}).
 *
 * @example
 * ```ts ignore
 * import { startRunnerThread } from "./runner_thread.ts";
 * const entries = {
 *   web: new URL("./web_runner.ts", import.meta.url),
 *   node: new URL("./node_runner.ts", import.meta.url),
 * };
 * const thread = startRunnerThread(entries, {
 *   memoryMb: undefined,
 *   onEnd: (how) => console.error("thread ended", how),
 * });
 * thread.terminate();
 * ```
 *
 * @module
 */
import { Worker as NodeWorker } from "node:worker_threads";
import type { ThreadDeath } from "../protocol.ts";

/** The entry modules of the two kinds of runner thread. */
export interface RunnerEntries {
  /** A web Worker's: {@linkcode ./web_runner.ts}. */
  web: URL;
  /** A `node:worker_threads` Worker's: {@linkcode ./node_runner.ts}. */
  node: URL;
}

/** A started runner thread. */
export interface RunnerThread {
  /** Posts `message` to the runner, moving `transfer` to it. */
  postMessage(message: unknown, transfer: Transferable[]): void;
  /** Ends the thread (not one stuck in a busy loop: the runtime cannot). */
  terminate(): void;
}

/** Options for {@linkcode startRunnerThread}. */
export interface RunnerThreadOptions {
  /** Its heap cap in MiB; `undefined` for V8's default (a web Worker). */
  memoryMb: number | undefined;
  /**
   * Its permissions, narrower than the process's (needs `--unstable-worker-options`); only
   * without a heap cap: a `node:worker_threads` thread cannot narrow them.
   * @default the process's
   */
  permissions?: Deno.PermissionOptionsObject;
  /** Called once the thread has ended on its own: how, as far as the runtime tells. */
  onEnd: (how: ThreadDeath) => void;
}

/** Starts a runner thread of the kind `options` need, running its entry of `entries`. */
export function startRunnerThread(
  entries: RunnerEntries,
  options: RunnerThreadOptions,
): RunnerThread {
  const { memoryMb, permissions, onEnd } = options;
  if (memoryMb === undefined) {
    const worker = new Worker(entries.web, {
      type: "module",
      ...(permissions ? { deno: { permissions } } : {}),
    });
    worker.onerror = (event) => {
      event.preventDefault();
      onEnd({ died: "error", message: event.message });
    };
    return {
      postMessage: (message, transfer) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
    };
  }
  if (permissions) throw new RangeError("a thread with a heap cap cannot narrow its permissions");
  const worker = new NodeWorker(entries.node, {
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
  });
  let death: ThreadDeath | undefined;
  worker.on("error", (error: Error & { code?: string }) => {
    death ??= error?.code === "ERR_WORKER_OUT_OF_MEMORY"
      ? { died: "oom" }
      : { died: "error", message: String(error?.message ?? error) };
  });
  worker.on("exit", (code: number) => onEnd(death ?? { died: "exit", code }));
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
    terminate: () => void worker.terminate(),
  };
}
