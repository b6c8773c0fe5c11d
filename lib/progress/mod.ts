/**
 * What a person watches during a run, on stderr. On a TTY: one line per pool and an overall bar
 * with the time left ({@linkcode ./tty_block.ts}), redrawn at most ten times a second, with
 * retries and failures printed above it as they happen. Elsewhere (pipes, cron): plain
 * timestamped lines, one per job start, finish, retry or failure, and no ANSI codes.
 *
 * @module
 */
import type { RunEvent } from "../scheduler/events.ts";
import { eventLine, isBadNews } from "./lines.ts";
import { ProgressTally } from "./tally.ts";
import { progressBlock } from "./tty_block.ts";

/** Options for {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Where text goes (stderr in the CLI). */
  write: (text: string) => void;
  /** Redraw a block of status lines instead of printing plain lines. */
  tty: boolean;
  /** Only failures. @default false */
  quiet?: boolean;
  /** ANSI colours (TTY only). @default tty */
  color?: boolean;
  /** The terminal's width, asked at each redraw. @default () => 80 */
  columns?: () => number;
  /** Wall clock for timestamps. @default () => new Date() */
  clock?: () => Date;
  /** Monotonic clock in ms, that moves the block's elapsed time on. @default performance.now */
  now?: () => number;
  /** How often the block may be redrawn, in ms. @default 100 */
  redrawMs?: number;
  /** Which run this is, shown before the bar (a comparison's mode and round). */
  label?: string;
  /** The downloads' bandwidth limit in bytes a second, shown beside their rate. */
  bandwidthLimit?: number | undefined;
  /** More lines for the block, asked at each redraw (a distributed run's workers). */
  statusLines?: () => string[];
}

/** A progress display: feed it events, close it before printing the summary. */
export interface Progress {
  handle(event: RunEvent): void;
  /** Prints `text` (whole lines) above the block, which stays. */
  note(text: string): void;
  close(): void;
}

/**
 * Creates the progress display for a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProgress } from "./mod.ts";
 * let text = "";
 * const progress = createProgress({ write: (t) => text += t, tty: false, clock: () => new Date(0) });
 * const job = { name: "a", kind: "run", needs: [] } as never;
 * progress.handle({ type: "job-started", at: 0, job, attempt: 1, lane: "cpu-1" });
 * progress.close();
 * assert(text === "1970-01-01T00:00:00.000Z start     a on cpu-1\n");
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  return options.tty ? terminalProgress(options) : plainProgress(options);
}

function plainProgress(options: ProgressOptions): Progress {
  const { write, quiet = false, clock = () => new Date() } = options;
  return {
    handle(event) {
      if (quiet && !isBadNews(event)) return;
      const line = eventLine(event);
      if (!line || (quiet && line.severity !== "failure")) return;
      write(`${clock().toISOString()} ${line.text}\n`);
    },
    note: write,
    close() {},
  };
}

/** The longest the block stays unchanged while the run goes on, in ms. */
const IDLE_REDRAW_MS = 1000;

function terminalProgress(options: ProgressOptions): Progress {
  const { write, quiet = false, color = true, columns = () => 80, redrawMs = 100 } = options;
  const { now = () => performance.now() } = options;
  const tally = new ProgressTally();
  /** Lines of the block now on screen (the cursor is at the end of its last line). */
  let shown = 0;
  let dirty = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  /** performance.now() when the run started (its events' `at` count from there). */
  let runStartedAt: number | undefined;
  let drawnAt = 0;

  /** Moves to the block's first line and erases the block. */
  const erase = () => {
    if (shown === 0) return "";
    const up = shown > 1 ? `\x1b[${shown - 1}A` : "";
    shown = 0;
    return `\r${up}\x1b[J`;
  };
  const block = () => {
    // The events' clock, moved on by the wall clock while no event comes.
    const elapsed = Math.max(
      tally.lastEventMs,
      runStartedAt === undefined ? 0 : now() - runStartedAt,
    );
    const lines = progressBlock(tally.snapshot(elapsed), {
      columns: columns(),
      color,
      ...(options.label ? { label: options.label } : {}),
      ...(options.bandwidthLimit ? { bandwidthLimit: options.bandwidthLimit } : {}),
      ...(options.statusLines ? { statusLines: options.statusLines() } : {}),
    });
    shown = lines.length;
    return lines.join("\n");
  };
  // On news, and once a second without: the clock, rate and ETA move while long jobs run.
  const redraw = () => {
    if (closed || (!dirty && now() - drawnAt < IDLE_REDRAW_MS)) return;
    dirty = false;
    drawnAt = now();
    write(`${erase()}${block()}`);
  };

  return {
    handle(event) {
      tally.handle(event);
      dirty = true;
      if (event.type === "run-started") runStartedAt = now() - event.at;
      if (event.type === "run-started" && !quiet && timer === undefined) {
        timer = setInterval(redraw, redrawMs);
        Deno.unrefTimer(timer);
      }
      if (!isBadNews(event)) return; // the block shows the rest
      const line = eventLine(event, { color });
      if (!line || (quiet && line.severity === "retry")) return;
      // Above the block: erase it, print the line, draw it again.
      write(`${erase()}${line.text}\n${timer === undefined ? "" : block()}`);
    },
    note(text) {
      if (closed) return write(text);
      write(`${erase()}${text}${timer === undefined ? "" : block()}`);
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      write(erase());
    },
  };
}
