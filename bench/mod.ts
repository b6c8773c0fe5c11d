/**
 * `deno task bench`: figures with ratios against the ideal, for the README. Not a test: it
 * prints what it measured and asserts nothing.
 *
 * - downloads: N files from a loopback album server (its own process) with injected latency;
 *   ratio = wall / (ceil(N / io) x latency), an ideal that ignores transfer time
 * - cpu: 4 x builtin:count sized to about 1 s each, on 1 Worker vs on all cores
 * - overhead: tiny compute and run jobs per second through the whole pipeline
 */
import { loadPlan } from "../lib/jobfile/mod.ts";
import { runPlan } from "../lib/run.ts";
import count from "../tasks/builtin/count.ts";

const PERMISSIONS = ["--allow-net"];

async function withAlbumServer<T>(
  images: number,
  bytes: number,
  latencyMs: number,
  use: (url: string) => Promise<T>,
): Promise<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      new URL("./serve_album.ts", import.meta.url).pathname,
      String(images),
      String(bytes),
      String(latencyMs),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("album server ended early");
    line += value;
  }
  try {
    return await use(line.trim());
  } finally {
    reader.releaseLock();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
}

async function runYaml(yaml: string): Promise<{ wallMs: number; ok: number; total: number }> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/jobs.yaml`, yaml);
    const plan = await loadPlan(`${dir}/jobs.yaml`);
    const report = await runPlan(plan);
    return { wallMs: report.wallMs, ok: report.summary.ok, total: report.summary.total };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function benchDownloads(files: number, bytes: number, latencyMs: number, io: number) {
  await withAlbumServer(files, bytes, latencyMs, async (url) => {
    const names = Array.from(
      { length: files },
      (_, i) => `img-${String(i + 1).padStart(2, "0")}.bmp`,
    );
    const yaml = [
      `concurrency: { io: ${io}, cpu: 1 }`,
      "jobs:",
      "  - name: album",
      "    download:",
      "      to: album/",
      "      urls:",
      ...names.map((name) => `        - ${url}/album/${name}`),
    ].join("\n");
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await runYaml(yaml);
      if (result.ok !== result.total) {
        throw new Error(`download bench: ${result.total - result.ok} failed`);
      }
      walls.push(result.wallMs);
    }
    const ideal = Math.ceil(files / io) * latencyMs;
    const wall = median(walls);
    console.log(
      `downloads  ${files} x ${bytes / 1024} KiB, ${latencyMs} ms latency, io=${io}: ` +
        `${wall.toFixed(0)} ms (median of 3); latency-only ideal ${ideal} ms; ratio ${
          (wall / ideal).toFixed(2)
        }`,
    );
  });
}

async function benchCpu() {
  // Size n so one count takes about 1 s here.
  const probe = 20_000_000;
  const t0 = performance.now();
  count(probe);
  const n = Math.round(probe * 1000 / (performance.now() - t0));
  const yaml = (cpu: number) =>
    `concurrency: { io: 1, cpu: ${cpu} }\njobs:\n  - { name: count, compute: { module: 'builtin:count', args: [${n}] }, repeat: 4 }\n`;
  const one = await runYaml(yaml(1));
  const all = await runYaml(yaml(navigator.hardwareConcurrency));
  const speedup = one.wallMs / all.wallMs;
  console.log(
    `cpu        4 x count(${n.toExponential(1)}): 1 worker ${one.wallMs.toFixed(0)} ms; ` +
      `${navigator.hardwareConcurrency} workers ${all.wallMs.toFixed(0)} ms; speedup ${
        speedup.toFixed(2)
      } ` +
      `(ideal ${Math.min(4, navigator.hardwareConcurrency)})`,
  );
}

async function benchOverhead() {
  const computeJobs = 2000;
  const compute = await runYaml(
    `jobs:\n  - { name: tiny, compute: { module: 'builtin:count', args: [1] }, repeat: ${computeJobs} }\n`,
  );
  const runJobs = 200;
  const commands = await runYaml(`jobs:\n  - { name: t, run: ['true'], repeat: ${runJobs} }\n`);
  console.log(
    `overhead   ${computeJobs} tiny compute jobs: ${
      (computeJobs / compute.wallMs * 1000).toFixed(0)
    } jobs/s; ` +
      `${runJobs} 'true' commands: ${(runJobs / commands.wallMs * 1000).toFixed(0)} jobs/s`,
  );
}

console.log(`taskpool bench on ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`);
await benchDownloads(24, 200 * 1024, 80, 24);
await benchDownloads(1000, 64 * 1024, 50, 64);
await benchDownloads(200, 1024 * 1024, 20, 16);
await benchCpu();
await benchOverhead();
