/**
 * Where compute code's console output goes in a host process: stderr, since stdout carries
 * taskpool's frames.
 *
 * @module
 */

/**
 * Sends `console.log` and its kin to stderr, in this thread (a Worker thread has its own console:
 * call this there too).
 */
export function consoleToStderr(): void {
  for (const name of ["log", "info", "debug", "dir", "table"] as const) {
    console[name] = console.error.bind(console);
  }
}
