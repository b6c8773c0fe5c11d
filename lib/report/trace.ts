/**
 * A run as a Chrome trace (the trace-event JSON format), so it opens in Perfetto or
 * chrome://tracing beside other traces: one process per run (per mode, for a comparison), one
 * thread per lane (io slots, cpu slots), one complete event per attempt.
 *
 * @module
 */
import type { Report } from "./types.ts";
import { writeTextFileAtomic } from "../util/write_atomic.ts";
import { lanesOf } from "./lanes.ts";

/** One trace event; only the fields taskpool writes. */
export interface TraceEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid: number;
  /** Microseconds since the run started. */
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** The trace file's shape. */
export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
}

/**
 * The trace of one or more runs, each labelled (a mode's name, say), all on the same time axis
 * from their own start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceOf } from "./trace.ts";
 * const trace = traceOf([]);
 * assert(trace.traceEvents.length === 0);
 * ```
 */
export function traceOf(runs: { label: string; report: Report }[]): Trace {
  const traceEvents: TraceEvent[] = [];
  runs.forEach(({ label, report }, index) => {
    const pid = index + 1;
    traceEvents.push({ name: "process_name", ph: "M", pid, tid: 0, args: { name: label } });
    traceEvents.push({
      name: "process_sort_index",
      ph: "M",
      pid,
      tid: 0,
      args: { sort_index: pid },
    });
    const lanes = new Map<string, number>();
    const laneId = (lane: string) => {
      let tid = lanes.get(lane);
      if (tid === undefined) {
        lanes.set(lane, tid = lanes.size + 1);
        traceEvents.push({ name: "thread_name", ph: "M", pid, tid, args: { name: lane } });
      }
      return tid;
    };
    for (const lane of lanesOf(report)) laneId(lane);
    for (const job of report.jobs) {
      job.attemptLog.forEach((attempt, i) => {
        const last = i === job.attemptLog.length - 1;
        traceEvents.push({
          name: job.name,
          cat: job.kind,
          ph: "X",
          pid,
          tid: laneId(attempt.lane),
          ts: Math.round(attempt.startMs * 1000),
          dur: Math.max(1, Math.round((attempt.endMs - attempt.startMs) * 1000)),
          args: {
            status: last ? job.status : "retried",
            attempt: i + 1,
            ...(attempt.error ? { error: attempt.error.message } : {}),
            ...(job.bytes !== undefined ? { bytes: job.bytes } : {}),
            ...(job.url ? { url: job.url } : {}),
            ...(job.isolation ? { isolation: job.isolation } : {}),
          },
        });
      });
    }
  });
  return { traceEvents, displayTimeUnit: "ms" };
}

/** Writes the runs' timeline (see {@linkcode traceOf}) to `path`, atomically. */
export async function writeTrace(
  path: string,
  runs: { label: string; report: Report }[],
): Promise<void> {
  await writeTextFileAtomic(path, JSON.stringify(traceOf(runs)));
}
