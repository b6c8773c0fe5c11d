/**
 * The style and the script of the HTML timeline page, inlined into it (the page loads nothing).
 * The script reads the runs from the page's JSON block, draws every attempt as a bar on its
 * lane (one `innerHTML` per page, positions in percent, so 10,000 bars draw at once and zooming
 * costs no redraw), and shows a job's details on hover. All runs share one time axis.
 *
 * @module
 */

/** The page's CSS. */
export const TIMELINE_CSS = `
:root { font: 13px/1.4 system-ui, sans-serif; color: #111827; --label: 92px; --grid: 10%; }
body { margin: 0; background: #fff; }
.page-head { padding: 12px 16px 4px; }
.page-head h1 { font-size: 16px; margin: 0 0 4px; }
.page-head p { margin: 2px 0; color: #4b5563; }
.controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; padding: 4px 16px 8px; }
.legend { display: flex; gap: 10px; flex-wrap: wrap; }
.legend span { display: inline-flex; align-items: center; gap: 4px; }
.legend i { display: inline-block; width: 18px; height: 10px; border-radius: 2px; position: relative; }
#scroller { overflow-x: auto; border-top: 1px solid #e5e7eb; }
#canvas { width: 100%; }
.run { margin: 0 0 14px; }
.run-head { position: sticky; left: 0; width: max-content; padding: 8px 16px 2px; }
.run-head h2 { display: inline; font-size: 14px; margin: 0 8px 0 0; }
.run-head span { color: #4b5563; }
.lane, .axis { display: flex; height: 16px; }
.axis { height: 16px; }
.lane-label { position: sticky; left: 0; z-index: 2; flex: 0 0 var(--label); background: #fff;
  font: 11px/16px ui-monospace, monospace; padding-left: 16px; box-sizing: border-box; color: #6b7280; }
.track { position: relative; flex: 1 1 auto; border-bottom: 1px solid #f3f4f6;
  background-image: repeating-linear-gradient(to right, #e5e7eb 0 1px, transparent 1px var(--grid)); }
.axis .track { background: none; border: 0; }
.tick { position: absolute; top: 1px; font-size: 10px; color: #6b7280; padding-left: 2px;
  border-left: 1px solid #9ca3af; white-space: nowrap; }
.bar { position: absolute; top: 2px; bottom: 2px; min-width: 1px; border-radius: 2px; overflow: hidden;
  white-space: nowrap; font-size: 10px; line-height: 12px; color: #fff; padding: 0 2px;
  box-sizing: border-box; }
.s-cached { opacity: 0.45; }
.s-failed { background-color: #dc2626; }
.s-cancelled { background-color: #9ca3af; }
.s-retried { background-image: repeating-linear-gradient(135deg, rgba(255,255,255,.6) 0 3px, transparent 3px 6px); }
.bar:hover { outline: 2px solid #111827; z-index: 1; }
.not-run { position: sticky; left: 0; width: max-content; max-width: 90vw; padding: 2px 16px; color: #4b5563; }
#tip { position: fixed; z-index: 10; max-width: 520px; padding: 6px 8px; border-radius: 4px;
  background: #111827; color: #f9fafb; font-size: 12px; pointer-events: none; overflow-wrap: anywhere; }
#tip b { display: inline-block; min-width: 70px; color: #9ca3af; font-weight: normal; }
`;

/** The page's script; it runs once the page's body is parsed. */
export const TIMELINE_SCRIPT = `
"use strict";
(() => {
  const { runs } = JSON.parse(document.getElementById("timeline-data").textContent);
  const classOf = (kind) => "k-" + String(kind).replace(/[^A-Za-z0-9_-]/g, "_");
  const STATUSES = new Set(["ok", "cached", "failed", "skipped", "cancelled"]);
  const NAMES_UNDER = 400; // bars show their job's name when a run has fewer attempts
  const maxMs = Math.max(1, ...runs.map((run) => run.wallMs));
  const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => escapes[c]);
  const pct = (ms) => (Math.max(0, ms) / maxMs * 100).toFixed(4) + "%";
  const ms = (value) => value < 1000 ? Math.round(value) + " ms"
    : value < 60000 ? (value / 1000).toFixed(2) + " s"
    : Math.floor(value / 60000) + " min " + Math.round((value % 60000) / 1000) + " s";
  const bytes = (value) => {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return unit === 0 ? value + " B" : value.toFixed(1) + " " + units[unit];
  };

  let html = "";
  runs.forEach((run, r) => {
    const s = run.summary;
    html += '<section class="run" data-run="' + r + '"><header class="run-head"><h2>' + esc(run.label) +
      "</h2><span>" + ms(run.wallMs) + " · " + s.total + " jobs: " + s.ok + " ok, " + s.cached +
      " cached, " + s.failed + " failed, " + s.skipped + " skipped, " + s.cancelled +
      " cancelled · mode " + esc(run.mode) + "</span></header>";
    html += '<div class="axis"><div class="lane-label"></div><div class="track"></div></div>';
    const lanes = run.lanes.map(() => []);
    const named = run.jobs.reduce((n, job) => n + job.attempts.length, 0) < NAMES_UNDER;
    run.jobs.forEach((job, j) => {
      const kind = classOf(job.kind);
      job.attempts.forEach(([lane, start, end], a) => {
        const last = a === job.attempts.length - 1;
        const status = !last ? "retried" : STATUSES.has(job.status) ? job.status : "ok";
        lanes[lane]?.push('<div class="bar ' + kind + " s-" + status + '" data-r="' + r +
          '" data-j="' + j + '" data-a="' + a + '" style="left:' + pct(start) + ";width:" +
          pct(end - start) + '">' + (named ? esc(job.name) : "") + "</div>");
      });
    });
    run.lanes.forEach((name, l) => {
      html += '<div class="lane"><div class="lane-label">' + esc(name) + '</div><div class="track">' +
        lanes[l].join("") + "</div></div>";
    });
    const notRun = run.jobs.filter((job) => job.attempts.length === 0);
    if (notRun.length > 0) {
      html += '<details class="not-run"><summary>' + notRun.length + (notRun.length === 1 ? " job" : " jobs") + " never started</summary><ul>" +
        notRun.slice(0, 1000).map((job) => "<li>" + esc(job.name) + ": " + esc(job.status) +
          (job.error ? " (" + esc(job.error) + ")" : "") + "</li>").join("") + "</ul></details>";
    }
    html += "</section>";
  });
  const canvas = document.getElementById("canvas");
  canvas.innerHTML = html;

  // Time axis and grid: about eight ticks across the visible width, whatever the zoom.
  const scroller = document.getElementById("scroller");
  const zoom = document.getElementById("zoom");
  const factor = () => Math.round(2 ** (Number(zoom.value) / 10)); // ×1 to ×1024
  const drawAxis = () => {
    const raw = maxMs / (8 * factor());
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((value) => value >= raw);
    let ticks = "";
    for (let t = 0; t <= maxMs; t += step) ticks += '<span class="tick" style="left:' + pct(t) + '">' + ms(t) + "</span>";
    for (const track of canvas.querySelectorAll(".axis .track")) track.innerHTML = ticks;
    canvas.style.setProperty("--grid", pct(step));
  };
  zoom.addEventListener("input", () => {
    const centre = (scroller.scrollLeft + scroller.clientWidth / 2) / scroller.scrollWidth;
    canvas.style.width = factor() * 100 + "%";
    document.getElementById("zoom-factor").textContent = "×" + factor();
    scroller.scrollLeft = centre * scroller.scrollWidth - scroller.clientWidth / 2;
    drawAxis();
  });
  drawAxis();

  // Hover details.
  const tip = document.getElementById("tip");
  const place = (event) => {
    if (tip.hidden) return;
    const pad = 14;
    let x = event.clientX + pad;
    let y = event.clientY + pad;
    if (x + tip.offsetWidth > innerWidth) x = Math.max(0, event.clientX - tip.offsetWidth - pad);
    if (y + tip.offsetHeight > innerHeight) y = Math.max(0, event.clientY - tip.offsetHeight - pad);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  };
  canvas.addEventListener("mouseover", (event) => {
    const bar = event.target.closest(".bar");
    if (!bar) { tip.hidden = true; return; }
    const run = runs[Number(bar.dataset.r)];
    const job = run.jobs[Number(bar.dataset.j)];
    const a = Number(bar.dataset.a);
    const [lane, start, end, error] = job.attempts[a];
    const last = a === job.attempts.length - 1;
    const ranOn = job.isolation
      ? job.isolation + (job.worker !== undefined ? " " + job.worker : "") + (job.pid !== undefined ? " (pid " + job.pid + ")" : "")
      : undefined;
    const rows = [
      ["job", job.name],
      ["kind", job.kind],
      ["status", last ? job.status : "failed, retried"],
      ["run", runs.length > 1 ? run.label : undefined],
      ["lane", run.lanes[lane]],
      ["attempt", a + 1 + " of " + job.attempts.length],
      ["start", ms(start)],
      ["end", ms(end)],
      ["took", ms(end - start)],
      ["queued", job.queuedMs === null ? undefined : ms(job.queuedMs)],
      ["bytes", job.bytes === undefined ? undefined : bytes(job.bytes)],
      ["size", job.size === undefined ? undefined : bytes(job.size)],
      ["cached", job.cached],
      ["url", job.url],
      ["path", job.path],
      ["ran on", ranOn],
      ["exit code", job.exitCode],
      ["error", error ?? (last ? job.error : undefined)],
    ];
    tip.replaceChildren(...rows.filter(([, value]) => value !== undefined && value !== "").map(([key, value]) => {
      const row = document.createElement("div");
      const label = document.createElement("b");
      label.textContent = key;
      row.append(label, " " + value);
      return row;
    }));
    tip.hidden = false;
    place(event);
  });
  canvas.addEventListener("mousemove", place);
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  document.body.dataset.ready = "true";
})();
`;
