/**
 * The run, viewed: one self-contained HTML page (no network, no external assets) with a Gantt
 * timeline of every attempt on its lane (io slots; each Worker thread and host process that ran
 * compute jobs; cpu slots for commands and the main thread), coloured by kind and status, with
 * a job's details on hover and a zoom. Several runs (a comparison's modes) stack on one time
 * axis, so the difference shows at a glance.
 *
 * @module
 */
import type { Report } from "./types.ts";
import { TIMELINE_CSS, TIMELINE_SCRIPT } from "./html_assets.ts";
import { timelineOf, type TimelineRun } from "./timeline.ts";
import { writeTextFileAtomic } from "../util/write_atomic.ts";

/** A run to show, and its label (the mode's name in a comparison). */
export interface LabelledReport {
  label: string;
  report: Report;
}

/** Options for {@linkcode timelineHtml}. */
export interface TimelineHtmlOptions {
  /** The page's title. */
  title: string;
  /** Kind names in the order their colours go (the registry's). @default as they appear */
  kinds?: readonly string[];
}

/** Bar colours, one per kind in order: blue, violet, amber, then more. */
const KIND_COLOURS = ["#2563eb", "#7c3aed", "#d97706", "#059669", "#db2777", "#0891b2", "#65a30d"];

/**
 * The timeline page of `runs`, as HTML text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timelineHtml } from "./html.ts";
 * const html = timelineHtml([], { title: "nothing ran" });
 * assert(html.startsWith("<!doctype html>") && !html.includes("http"));
 * ```
 */
export function timelineHtml(runs: LabelledReport[], options: TimelineHtmlOptions): string {
  const timelines: TimelineRun[] = runs.map(({ label, report }) => timelineOf(label, report));
  // Each kind a colour of its own, in the order given, then in the order they appear.
  const kinds = [
    ...new Set([
      ...options.kinds ?? [],
      ...runs.flatMap(({ report }) => report.jobs.map((job) => job.kind)),
    ]),
  ];
  const kindColours = kinds.map((kind, index) =>
    `.${kindClass(kind)} { background-color: ${KIND_COLOURS[index % KIND_COLOURS.length]}; }`
  ).join("\n");
  const kindLegend = kinds.map((kind) =>
    `<span><i class="${kindClass(kind)}"></i>${escapeHtml(kind)}</span>`
  ).join("\n");
  const firstKind = kinds[0] === undefined ? "" : kindClass(kinds[0]);
  const first = runs[0]?.report;
  const facts = first
    ? `${escapeHtml(first.file)} · started ${
      escapeHtml(first.startedAt)
    } · ${first.host.cores} cores, ` +
      `Deno ${escapeHtml(first.host.deno)} on ${escapeHtml(first.host.os)}`
    : "no runs";
  const stacked = runs.length > 1
    ? "<p>Each run on the same time axis: the longest one spans the width.</p>"
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${TIMELINE_CSS}${kindColours}</style>
</head>
<body>
<header class="page-head">
<h1>${escapeHtml(options.title)}</h1>
<p>${facts}</p>
${stacked}
</header>
<div class="controls">
<label>zoom <input id="zoom" type="range" min="0" max="100" step="1" value="0"> <output id="zoom-factor">×1</output></label>
<div class="legend">
${kindLegend}
<span><i class="${firstKind} s-cached"></i>cached</span>
<span><i class="${firstKind} s-retried"></i>failed, retried</span>
<span><i class="s-failed"></i>failed</span>
<span><i class="s-cancelled"></i>cancelled</span>
</div>
</div>
<div id="scroller"><div id="canvas"></div></div>
<div id="tip" hidden></div>
<script type="application/json" id="timeline-data">${jsonForScript({ runs: timelines })}</script>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the timeline page of `runs` (see {@linkcode timelineHtml}) to `path`, atomically. */
export async function writeTimelineHtml(
  path: string,
  runs: LabelledReport[],
  options: TimelineHtmlOptions,
): Promise<void> {
  await writeTextFileAtomic(path, timelineHtml(runs, options));
}

/** The CSS class of a kind's bars (the page's script makes the same). */
function kindClass(kind: string): string {
  return `k-${kind.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its `<script>` element early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}
