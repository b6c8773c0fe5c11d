/**
 * The block of lines the live display redraws on a terminal: one line per pool, then the
 * overall bar with the estimated time left. Each line fits the terminal's width, so redrawing
 * never wraps.
 *
 * @module
 */
import { formatBytes, formatDuration } from "../util/format.ts";
import type { PoolTally, TallySnapshot } from "./tally.ts";

/** Options for {@linkcode progressBlock}. */
export interface BlockOptions {
  /** The terminal's width in columns. */
  columns: number;
  /** ANSI colours. @default false */
  color?: boolean;
  /** Put before the bar: which run this is (a comparison's mode and round). */
  label?: string;
  /** The downloads' bandwidth limit in bytes a second, shown after their rate. */
  bandwidthLimit?: number;
  /** More lines, under the pools' (a distributed run's workers and what each runs). */
  statusLines?: string[];
}

const BAR_MAX = 30;
const BAR_MIN = 10;

/**
 * The lines for `snapshot`, none longer than `columns - 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressBlock } from "./tty_block.ts";
 * const lines = progressBlock({
 *   elapsedMs: 2000, done: 1, total: 2, failed: 0, bytes: 0, bytesPerSecond: 0, etaMs: 2000,
 *   pools: [{ pool: "cpu", active: 1, limit: 2, done: 1, total: 2, filesOnly: false, downloads: false }],
 * }, { columns: 80 });
 * assert(lines[0] === "cpu   1/2 busy    jobs 1/2");
 * assert(lines[1]!.endsWith("1/2  50%  2.00s  ETA 2s"));
 * ```
 */
export function progressBlock(snapshot: TallySnapshot, options: BlockOptions): string[] {
  const width = Math.max(1, options.columns - 1);
  const paint = (code: number, text: string) =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const lines = snapshot.pools.map((pool) =>
    fit(poolLine(pool, snapshot, options.bandwidthLimit), width)
  );
  for (const line of options.statusLines ?? []) lines.push(fit(line, width));

  const percent = snapshot.total === 0 ? 100 : Math.floor((snapshot.done / snapshot.total) * 100);
  const failed = snapshot.failed ? `  ${snapshot.failed} failed` : "";
  const eta = snapshot.etaMs === undefined ? "ETA --" : `ETA ${formatEta(snapshot.etaMs)}`;
  const label = options.label ? `${options.label}  ` : "";
  const figures = `${label}${snapshot.done}/${snapshot.total}  ${percent}%${failed}  ` +
    `${formatDuration(snapshot.elapsedMs)}  ${eta}`;
  const barWidth = Math.min(BAR_MAX, width - figures.length - 2);
  let overall: string;
  if (barWidth >= BAR_MIN) {
    const filled = snapshot.total === 0
      ? barWidth
      : Math.floor((snapshot.done / snapshot.total) * barWidth);
    const bar = `${paint(32, "█".repeat(filled))}${"░".repeat(barWidth - filled)}`;
    overall = `${label}${bar}  ${figures.slice(label.length)}`;
  } else overall = fit(figures, width);
  if (failed && overall.includes(failed)) {
    overall = overall.replace(failed, `  ${paint(31, `${snapshot.failed} failed`)}`);
  }
  lines.push(overall);
  return lines;
}

function poolLine(pool: PoolTally, snapshot: TallySnapshot, limit: number | undefined): string {
  const verb = pool.pool === "io" ? "active" : "busy";
  const noun = pool.filesOnly ? "files" : "jobs";
  let line = `${pool.pool.padEnd(4)}${`${pool.active}/${pool.limit}`.padStart(5)} ${
    verb.padEnd(6)
  }  ${noun} ${pool.done}/${pool.total}`;
  if (pool.downloads && snapshot.bytes > 0) {
    line += `  ${formatBytes(snapshot.bytes)}  ${
      formatBytes(Math.round(snapshot.bytesPerSecond))
    }/s`;
    if (limit !== undefined) line += ` (limit ${formatBytes(limit)}/s)`;
  }
  return line;
}

/**
 * `text` cut to `width` terminal columns, with an ellipsis when cut. Job names may be any
 * Unicode (a fan-out's file names): a wide character (CJK, most emoji) takes two columns, a
 * combining mark none, and a cut never splits a character, so that no line wraps.
 */
export function fit(text: string, width: number): string {
  if (ASCII.test(text)) {
    return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
  }
  let columns = 0;
  let cut = -1;
  let at = 0;
  for (const char of text) {
    columns += columnsOf(char);
    if (cut < 0 && columns > width - 1) cut = at;
    if (columns > width) return `${text.slice(0, cut)}…`;
    at += char.length;
  }
  return text;
}

const ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const WIDE =
  /^[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]$/u;

/** The columns a terminal gives one character (a code point). */
function columnsOf(char: string): number {
  return ZERO_WIDTH.test(char) ? 0 : WIDE.test(char) ? 2 : 1;
}

/** A coarse duration for an estimate: `12s`, `2m05s`, `1h03m`. */
export function formatEta(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
