/**
 * The timeline page in a real browser: every job that ran has a bar, hovering shows its details,
 * a comparison stacks its runs on one time axis, and 10,000 jobs draw without freezing.
 */
import { decode } from "fast-png";
import assert from "node:assert/strict";
import type { TimelineRun } from "../../lib/report/timeline.ts";
import { openBrowser } from "../helpers/browser.ts";
import { cli } from "../helpers/cli.ts";
import { startFaultServer } from "../helpers/fault_server.ts";
import { tempDir } from "../helpers/temp.ts";

/** The runs the page embeds. */
async function pageRuns(page: import("playwright-core").Page): Promise<TimelineRun[]> {
  const text = await page.locator("#timeline-data").textContent();
  return JSON.parse(text!).runs;
}

/** The tooltip's rows as { label: value }. */
async function tipRows(page: import("playwright-core").Page): Promise<Record<string, string>> {
  await page.locator("#tip").waitFor({ state: "visible" });
  const rows = await page.locator("#tip > div").allTextContents();
  return Object.fromEntries(rows.map((row) => {
    const [label, ...rest] = row.split(" ");
    return [
      label === "exit" || label === "ran" ? `${label} ${rest.shift()}` : label!,
      rest.join(" "),
    ];
  }));
}

Deno.test("taskpool run --html: a bar per attempt on its lane, hover details, a screenshot", async () => {
  await using server = startFaultServer();
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "concurrency: { io: 4, cpu: 2 }",
      "jobs:",
      `  - { name: image, download: { url: "${server.url}/bytes/3000", to: image.bin } }`,
      `  - { name: flaky, download: { url: "${server.url}/flaky/page?fail=1" }, backoff: 10ms }`,
      `  - { name: missing, download: { url: "${server.url}/status/404" }, retries: 0 }`,
      '  - { name: sum, compute: { module: "builtin:count", args: [1000] }, needs: [image] }',
      '  - { name: boom, run: ["sh", "-c", "exit 3"] }',
      '  - { name: after, run: ["true"], needs: [boom] }',
      "",
    ].join("\n"),
  );
  const run = await cli(["run", "jobs.yaml", "--html", "timeline.html"], { cwd: dir.path });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /timeline written to timeline\.html/);

  await using browser = await openBrowser();
  const { page, errors } = await browser.open(`${dir.path}/timeline.html`);
  const [timeline] = await pageRuns(page);
  const bars = await page.locator(".bar").evaluateAll((elements) =>
    elements.map((bar) => ({
      job: Number(bar.getAttribute("data-j")),
      lane: bar.parentElement!.previousElementSibling!.textContent,
      classes: bar.className,
      width: bar.getBoundingClientRect().width,
    }))
  );
  const names = (list: { job: number }[]) => list.map((bar) => timeline!.jobs[bar.job]!.name);
  // Every attempt is a bar (flaky twice); "after" never started and is listed instead.
  assert.deepEqual(names(bars).sort(), ["boom", "flaky", "flaky", "image", "missing", "sum"]);
  for (const bar of bars) {
    const job = timeline!.jobs[bar.job]!;
    assert.ok(bar.width >= 1, `${job.name} is visible`);
    assert.ok(bar.classes.includes(`k-${job.kind}`), bar.classes);
    // Downloads on io slots, compute on the Worker thread that ran it, commands on cpu slots.
    const lane = { download: /^io-\d+$/, compute: /^worker-\d+$/, run: /^cpu-\d+$/ }[job.kind];
    assert.match(bar.lane!, lane!, job.name);
  }
  assert.deepEqual(bars.filter((bar) => bar.classes.includes("s-failed")).length, 2);
  assert.deepEqual(bars.filter((bar) => bar.classes.includes("s-retried")).length, 1);
  assert.match(
    await page.locator(".not-run").textContent() ?? "",
    /1 job never started.*after: skipped/s,
  );

  const index = (name: string) => timeline!.jobs.findIndex((job) => job.name === name);
  await page.hover(`.bar[data-j="${index("image")}"]`);
  const image = await tipRows(page);
  assert.equal(image.job, "image");
  assert.equal(image.status, "ok");
  assert.equal(image.bytes, "2.9 KiB");
  assert.equal(image.url, `${server.url}/bytes/3000`);
  assert.match(image.took ?? "", /^\d+ ms$/);
  await page.hover(`.bar[data-j="${index("flaky")}"][data-a="0"]`);
  const retried = await tipRows(page);
  assert.equal(retried.status, "failed, retried");
  assert.equal(retried.attempt, "1 of 2");
  assert.match(retried.error ?? "", /503/);
  await page.hover(`.bar[data-j="${index("boom")}"]`);
  const boom = await tipRows(page);
  assert.equal(boom["exit code"], "3");
  assert.match(boom.error ?? "", /exited with code 3/);

  const shot = `${dir.path}/timeline.png`;
  await page.screenshot({ path: shot, fullPage: true });
  const png = decode(await Deno.readFile(shot));
  assert.equal(png.width, 1280);
  assert.deepEqual(errors, []);
});

Deno.test("taskpool compare --html: the modes stacked on one time axis", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    'jobs:\n  - { name: c, compute: { module: "builtin:count", args: [200000] }, repeat: 4 }\n',
  );
  const compare = await cli(
    ["compare", "jobs.yaml", "--modes", "sequential,workers", "--html", "compare.html"],
    { cwd: dir.path },
  );
  assert.equal(compare.code, 0, compare.stderr);
  await using browser = await openBrowser();
  const { page, errors } = await browser.open(`${dir.path}/compare.html`);
  const runs = await pageRuns(page);
  assert.deepEqual(runs.map((run) => run.label), ["sequential", "workers"]);
  assert.deepEqual(await page.locator(".run-head h2").allTextContents(), ["sequential", "workers"]);
  for (const [r, run] of runs.entries()) {
    assert.equal(await page.locator(`.bar[data-r="${r}"]`).count(), 4, run.label);
  }
  // One axis: the same ticks at the same places in both runs.
  const ticks = await page.locator(".axis").evaluateAll((axes) =>
    axes.map((axis) =>
      [...axis.querySelectorAll(".tick")].map((tick) =>
        `${tick.textContent}@${Math.round(tick.getBoundingClientRect().left)}`
      ).join(" ")
    )
  );
  assert.equal(ticks.length, 2);
  assert.equal(ticks[0], ticks[1]);
  assert.ok(ticks[0]!.split(" ").length >= 4, ticks[0]);
  // A bar ends where its run's time says, on that axis: the later run's last bar is further right.
  const rightmost = async (r: number) =>
    Math.max(
      ...await page.locator(`.bar[data-r="${r}"]`).evaluateAll((bars) =>
        bars.map((bar) => bar.getBoundingClientRect().right)
      ),
    );
  const [sequentialEnd, workersEnd] = [await rightmost(0), await rightmost(1)];
  const [sequentialMs, workersMs] = runs.map((run) =>
    Math.max(...run.jobs.map((job) => job.endMs))
  );
  assert.equal(sequentialEnd > workersEnd, sequentialMs! > workersMs!);
  assert.deepEqual(errors, []);
});

Deno.test("taskpool report --html draws 10,000 jobs, and a zoomed-in bar shows its details", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    'jobs:\n  - { name: tiny, compute: { module: "builtin:count", args: [1] }, repeat: 10000 }\n',
  );
  const run = await cli(["run", "jobs.yaml", "--quiet"], { cwd: dir.path });
  assert.equal(run.code, 0, run.stderr);
  const report = await cli(
    ["report", "downloads/report.json", "--html", "big.html"],
    { cwd: dir.path },
  );
  assert.equal(report.code, 0, report.stderr);

  await using browser = await openBrowser();
  const began = performance.now();
  const { page, errors } = await browser.open(`${dir.path}/big.html`);
  const loadMs = performance.now() - began;
  assert.equal(await page.locator(".bar").count(), 10_000);
  // Not a benchmark: a bound far above the ~1 s it takes, that a frozen page would miss.
  assert.ok(loadMs < 20_000, `drawn in ${Math.round(loadMs)} ms`);

  await page.locator("#zoom").fill("100");
  assert.equal(await page.locator("#zoom-factor").textContent(), "×1024");
  // Tiny jobs may share start and end (the report keeps 0.1 ms), so bring job 5000's bar to the
  // middle and hover the first point near it that has a bar, whichever is on top there.
  await page.evaluate(
    `document.querySelector('.bar[data-j="5000"]').scrollIntoView({ inline: "center" })`,
  );
  const box = (await page.locator('.bar[data-j="5000"]').boundingBox())!;
  const y = box.y + box.height / 2;
  let job: number | undefined;
  for (let x = box.x - 20; x < box.x + box.width + 20 && job === undefined; x += 1) {
    // A string, as the tests are type-checked without the DOM's types.
    const found = await page.evaluate<number | null>(
      `(() => { const bar = document.elementFromPoint(${x}, ${y})?.closest(".bar");
        return bar ? Number(bar.getAttribute("data-j")) : null; })()`,
    );
    job = found ?? undefined;
    if (job !== undefined) await page.mouse.move(x, y);
  }
  assert.ok(job !== undefined, "a bar in the middle of the zoomed-in run");
  const rows = await tipRows(page);
  assert.equal(rows.job, `tiny/${job + 1}`);
  assert.match(rows["ran on"] ?? "", /^worker \d+$/);
  assert.deepEqual(errors, []);
});
