/**
 * Last words before an immediate exit (a second Ctrl-C): synchronous hooks that parts of a run
 * register while they have something to save or stop, such as writing the report as it stands
 * or killing the commands' process groups.
 *
 * @module
 */

const hooks = new Set<() => void>();

/**
 * Registers `hook` until the returned handle is disposed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onHardExit, runHardExitHooks } from "./exit_hooks.ts";
 * let ran = 0;
 * {
 *   using _hook = onHardExit(() => ran++);
 *   runHardExitHooks();
 * }
 * runHardExitHooks();
 * assert(ran === 1);
 * ```
 */
export function onHardExit(hook: () => void): Disposable {
  hooks.add(hook);
  return { [Symbol.dispose]: () => void hooks.delete(hook) };
}

/** Runs every registered hook once, in order; a hook that throws does not stop the others. */
export function runHardExitHooks(): void {
  for (const hook of [...hooks]) {
    try {
      hook();
    } catch {
      // Exiting anyway: the other hooks still get their turn.
    }
  }
}

/**
 * Registers a hook that sends `child` SIGKILL, until it has exited: a helper process (a Worker
 * host, the signalling shell) that would end on its own once taskpool's end closes its stdin
 * ends with taskpool instead, even if it is too busy to read.
 */
export function killOnHardExit(child: Deno.ChildProcess): void {
  const hook = onHardExit(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  });
  child.status.finally(() => hook[Symbol.dispose]());
}
