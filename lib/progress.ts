/**
 * What a person watches during a run, on stderr. On a TTY: one status line redrawn at most ten
 * times a second, with failures printed above it as they happen. Elsewhere (pipes, cron): plain
 * timestamped lines, one per job start, finish, retry or failure, and no ANSI codes.
 *
 * @module
 */
import { errorMessage } from "./errors.ts";
import type { RunEvent } from "./events.ts";
import { formatBytes, formatDuration } from "./format.ts";

/** Options for {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Where text goes (stderr in the CLI). */
  write: (text: string) => void;
  /** Redraw a status line instead of printing plain lines. */
  tty: boolean;
  /** Only failures. @default false */
  quiet?: boolean;
  /** ANSI colours (TTY only). @default tty */
  color?: boolean;
  /** Wall clock for timestamps. @default () => new Date() */
  clock?: () => Date;
}

/** A progress display: feed it events, close it before printing the summary. */
export interface Progress {
  handle(event: RunEvent): void;
  close(): void;
}

/** Creates the progress display for a run. */
export function createProgress(options: ProgressOptions): Progress {
  const { write, tty, quiet = false, color = tty, clock = () => new Date() } = options;
  const paint = (code: number, text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
  let total = 0;
  let done = 0;
  let failed = 0;
  /** Bytes of finished downloads, and of each transfer under way. */
  let bytes = 0;
  const transferring = new Map<string, number>();
  let files = 0;
  let filesDone = 0;
  /** Recent (time, bytes) samples for the current rate. */
  const samples: [number, number][] = [];
  let elapsed = 0;
  /** Jobs in an attempt now, and their pool. */
  const running = new Map<string, "io" | "cpu">();
  const limits = { io: 0, cpu: 0 };
  const poolOf = new Map<string, "io" | "cpu">();
  const busy = (pool: "io" | "cpu") => {
    let count = 0;
    for (const value of running.values()) if (value === pool) count++;
    return count;
  };
  let dirty = false;
  let drawn = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const received = () => {
    let sum = bytes;
    for (const value of transferring.values()) sum += value;
    return sum;
  };
  /** Bytes per second over the last two seconds or so. */
  const rate = (now: number, total: number) => {
    samples.push([now, total]);
    while (samples.length > 2 && now - samples[0]![0] > 2000) samples.shift();
    const [then, before] = samples[0]!;
    return now - then > 0 ? (total - before) / ((now - then) / 1000) : 0;
  };
  const statusLine = () => {
    const got = received();
    const perSecond = rate(elapsed, got); // sampled on every redraw, also before the first byte
    const downloads = files === 0 ? "" : ` · files ${filesDone}/${files}` +
      ` · io ${busy("io")}/${limits.io}` +
      (got ? ` · ${formatBytes(got)} at ${formatBytes(perSecond)}/s` : "");
    return `[${done}/${total}]${downloads} · cpu ${busy("cpu")}/${limits.cpu}` +
      (failed ? ` · ${paint(31, `${failed} failed`)}` : "") + ` · ${formatDuration(elapsed)}`;
  };
  const redraw = () => {
    if (!dirty) return;
    dirty = false;
    drawn = true;
    write(`\r\x1b[2K${statusLine()}`);
  };
  const above = (line: string) => {
    if (tty) write(`\r\x1b[2K${line}\n`);
    else write(`${line}\n`);
    if (tty && drawn) {
      dirty = true;
      redraw();
    }
  };
  const stamp = () => clock().toISOString();

  const handle = (event: RunEvent) => {
    elapsed = event.at;
    switch (event.type) {
      case "run-started":
        total = event.jobs.length;
        files = event.jobs.filter((job) => job.kind === "download").length;
        limits.io = event.limits.io;
        limits.cpu = event.limits.cpu;
        if (tty && !quiet) timer = setInterval(redraw, 100);
        break;
      case "job-queued":
        poolOf.set(event.job.name, event.pool);
        break;
      case "job-started": {
        running.set(event.job.name, poolOf.get(event.job.name) ?? "cpu");
        if (!tty && !quiet) {
          const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
          write(`${stamp()} start     ${event.job.name} on ${event.lane}${attempt}\n`);
        }
        break;
      }
      case "job-progress":
        transferring.set(event.job.name, event.bytes);
        break;
      case "job-retrying": {
        running.delete(event.job.name);
        transferring.delete(event.job.name);
        if (!quiet) {
          above(
            `${tty ? "" : `${stamp()} `}${paint(33, "retry")}     ${event.job.name}: ` +
              `${errorMessage(event.error)} (attempt ${event.attempt} failed; next in ${
                formatDuration(event.delayMs)
              })`,
          );
        }
        break;
      }
      case "job-finished": {
        const { outcome, job } = event;
        done++;
        if (job.kind === "download") filesDone++;
        running.delete(job.name);
        transferring.delete(job.name);
        if (outcome.result?.bytes) bytes += outcome.result.bytes;
        const took = outcome.startMs === undefined
          ? ""
          : ` ${formatDuration(outcome.endMs - outcome.startMs)}`;
        if (outcome.status === "failed") {
          failed++;
          const prefix = tty ? "" : `${stamp()} `;
          above(
            `${prefix}${paint(31, "failed")}    ${job.name}${took}: ${errorMessage(outcome.error)}`,
          );
        } else if (!tty && !quiet) {
          const size = outcome.result?.bytes === undefined
            ? ""
            : ` ${formatBytes(outcome.result.bytes)}`;
          const why = outcome.status === "cached"
            ? ` (${outcome.result?.cached === "checksum" ? "checksum matches" : "not modified"})`
            : outcome.error === undefined
            ? ""
            : `: ${errorMessage(outcome.error)}`;
          write(`${stamp()} ${outcome.status.padEnd(9)} ${job.name}${took}${size}${why}\n`);
        }
        break;
      }
      case "run-finished":
        break;
      default:
        event satisfies never;
    }
    dirty = true;
  };

  return {
    handle,
    close() {
      clearInterval(timer);
      if (tty && drawn) write("\r\x1b[2K");
    },
  };
}
