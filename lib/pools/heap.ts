/**
 * The floor of a compute job's heap cap.
 *
 * @module
 */

/**
 * The smallest heap cap (`memory:`), in MiB, a compute job may have. Below some 8 MiB V8 cannot
 * start a thread or a process: it dies as it starts, and a thread takes its whole host process,
 * with the other jobs' threads there, down with it. A task needs room of its own beyond that.
 */
export const MIN_HEAP_MIB = 16;
