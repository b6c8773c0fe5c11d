/**
 * Download benchmarks: taskpool (the real CLI, in its own process) against a bare fetch loop
 * and `curl` on the same loopback server (bench/serve_files.ts, also in its own process).
 *
 * ideal = ceil(N / io) x latency + bytes / bandwidth, where bandwidth is measured by one bare
 * fetch of a large body from the same server, read and discarded.
 */
import { createHash } from "node:crypto";
import { formatBytes } from "../lib/util/format.ts";
import { runCli } from "./run_cli.ts";
import { record } from "./results.ts";

/** The chunk bench/serve_files.ts streams `/blob` in. */
const BLOB_CHUNK = 1024 * 1024;

const ROOT = new URL("..", import.meta.url).pathname;

/** A benchmark server process. */
interface FileServer extends AsyncDisposable {
  url: string;
}

export async function startFileServer(): Promise<FileServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", `${ROOT}bench/serve_files.ts`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the benchmark server ended early");
    line += value;
  }
  reader.releaseLock();
  return {
    url: line.trim(),
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** Bytes per second of one bare fetch of `bytes` from the server, read and discarded. */
async function measureBandwidth(server: FileServer, bytes: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const response = await fetch(`${server.url}/blob?bytes=${bytes}`);
    for await (const _ of response.body!) { /* discard */ }
    best = Math.max(best, bytes / ((performance.now() - t0) / 1000));
  }
  return best;
}

interface TaskpoolRun {
  /** The report's wall time. */
  wallMs: number;
  /** The whole process's, as `time` shows it. */
  wholeMs: number;
  peakRssBytes: number;
}

/**
 * Runs the taskpool CLI on `urls` in a fresh folder; returns the report's wall time and RSS.
 * `sha256` (one URL only) makes the job verify that checksum, so the body is hashed.
 */
async function runTaskpool(
  urls: string[],
  io: number,
  options: { sha256?: string } = {},
): Promise<TaskpoolRun> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/urls.txt`, urls.join("\n"));
    const download = options.sha256
      ? `{ url: "${urls[0]}", to: files/big, sha256: ${options.sha256} }`
      : "{ urls_from: urls.txt, to: files/ }";
    await Deno.writeTextFile(
      `${dir}/jobs.yaml`,
      `output: out\nconcurrency: { io: ${io}, per_host: ${io} }\n` +
        `jobs:\n  - { name: files, download: ${download} }\n`,
    );
    const report = await runCli(`${dir}/jobs.yaml`);
    return { wallMs: report.wallMs, wholeMs: report.wholeMs, peakRssBytes: report.peakRssBytes };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The bare loop's flags: taskpool's run (lib/sandbox/relaunch.ts) gets the same V8 flags. */
const BARE_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--v8-flags=--max-semi-space-size=4",
];

/** A bare fetch loop with a concurrency limit (bench/bare_fetch.ts), in its own process. */
async function runBareFetch(urls: string[], limit: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/urls.txt`, urls.join("\n"));
    await Deno.mkdir(`${dir}/files`);
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...BARE_FLAGS,
        `${ROOT}bench/bare_fetch.ts`,
        `${dir}/urls.txt`,
        `${dir}/files`,
        String(limit),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error(`the bare fetch loop failed with ${output.code}`);
    return Number(new TextDecoder().decode(output.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `curl --parallel` on the URLs, or undefined when curl is not installed. */
async function runCurl(urls: string[], parallel: number): Promise<number | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    const config = urls.map((url, i) => `url = "${url}"\noutput = "${dir}/${i}"\n`).join("");
    await Deno.writeTextFile(`${dir}/curl.conf`, config);
    const args = urls.length > 1
      ? ["-s", "--fail", "-Z", "--parallel-max", String(parallel), "-K", `${dir}/curl.conf`]
      : ["-s", "--fail", "-o", `${dir}/0`, urls[0]!];
    const t0 = performance.now();
    const status = await new Deno.Command("curl", { args, stdout: "null", stderr: "null" })
      .output();
    if (!status.success) throw new Error(`curl failed with ${status.code}`);
    return performance.now() - t0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `steps` one after another, starting at step `round` (mod their number), so that no
 * contender is always the first on a fresh server or a fresh disk. Each starts after a `sync`,
 * with no dirty pages left by the one before: a writer that followed a 1 GiB write was slowed
 * by its writeback (taskpool/curl 0.82-2.34 round by round without, 0.86-1.59 and 0.93-1.12
 * with).
 */
async function inTurns(round: number, steps: (() => Promise<void>)[]): Promise<void> {
  for (let k = 0; k < steps.length; k++) {
    await new Deno.Command("sync").output();
    await steps[(round + k) % steps.length]!();
  }
}

export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Case {
  files: number;
  bytes: number;
  latencyMs: number;
  io: number;
  /** The issue's target ratio to the ideal, if any. */
  target?: number;
  /** Peak RSS limit, if any. */
  rssLimit?: number;
}

const ratio = (ms: number, ideal: number) => `${(ms / ideal).toFixed(2)}x`;

/** The SHA-256 of `/blob?bytes=N` as bench/serve_files.ts sends it (its pattern, repeated). */
function blobSha256(bytes: number): string {
  const chunk = new Uint8Array(BLOB_CHUNK).map((_, i) => (i * 31 + 7) & 0xff);
  const hash = createHash("sha256");
  for (let left = bytes; left > 0; left -= BLOB_CHUNK) {
    hash.update(chunk.subarray(0, Math.min(left, BLOB_CHUNK)));
  }
  return hash.digest("hex");
}

/**
 * Runs every download case and prints its figures. Each case gets a fresh server (one that
 * has served thousands of requests was measured slower) and its own bandwidth figure.
 */
export async function benchDownloads(options: { repeat?: number } = {}): Promise<void> {
  const { repeat = 3 } = options;
  const folder = Deno.env.get("TMPDIR") ?? "/tmp";
  console.log(`files written under ${folder} (set TMPDIR to measure another disk)`);

  const cases: Case[] = [
    { files: 24, bytes: 200 * 1024, latencyMs: 80, io: 24 },
    { files: 1000, bytes: 64 * 1024, latencyMs: 50, io: 64, target: 1.15, rssLimit: 150e6 },
    { files: 200, bytes: 1024 * 1024, latencyMs: 20, io: 16, target: 1.2 },
  ];
  for (const c of cases) {
    await using server = await startFileServer();
    const bandwidth = await measureBandwidth(server, 512 * 2 ** 20);
    const urls = Array.from(
      { length: c.files },
      (_, i) => `${server.url}/f/${i}.bin?bytes=${c.bytes}&latency=${c.latencyMs}`,
    );
    const ideal = Math.ceil(c.files / c.io) * c.latencyMs + (c.files * c.bytes) / bandwidth * 1000;
    const runs: TaskpoolRun[] = [];
    const bare: number[] = [];
    const curl: number[] = [];
    for (let i = 0; i < repeat; i++) {
      await inTurns(i, [
        async () => void runs.push(await runTaskpool(urls, c.io)),
        async () => void bare.push(await runBareFetch(urls, c.io)),
        async () => {
          const curlMs = await runCurl(urls, c.io);
          if (curlMs !== undefined) curl.push(curlMs);
        },
      ]);
    }
    const wall = median(runs.map((run) => run.wallMs));
    const whole = median(runs.map((run) => run.wholeMs));
    const rss = Math.max(...runs.map((run) => run.peakRssBytes));
    const verdict = c.target === undefined
      ? ""
      : wall / ideal <= c.target
      ? " (target met)"
      : ` (target ${c.target}x NOT met)`;
    record({
      case: `${c.files} x ${formatBytes(c.bytes)}, ${c.latencyMs} ms latency, io=${c.io}`,
      idealMs: ideal,
      taskpoolMs: wall,
      taskpoolWholeMs: whole,
      ratioToIdeal: wall / ideal,
      target: c.target,
      peakRssBytes: rss,
      bareFetchMs: median(bare),
      curlMs: curl.length ? median(curl) : undefined,
    });
    console.log(
      `downloads  ${c.files} x ${formatBytes(c.bytes)}, ${c.latencyMs} ms latency, io=${c.io}: ` +
        `ideal ${ideal.toFixed(0)} ms (loopback ${
          formatBytes(bandwidth)
        }/s); medians of ${repeat}\n` +
        `  taskpool   ${wall.toFixed(0)} ms = ${ratio(wall, ideal)} ideal${verdict}, ` +
        `peak RSS ${formatBytes(rss)}${
          c.rssLimit === undefined ? "" : rss <= c.rssLimit ? " (within limit)" : " (OVER limit)"
        }\n` +
        `             whole process ${whole.toFixed(0)} ms = ${ratio(whole, ideal)}${
          curl.length ? `, ${(whole / median(curl)).toFixed(2)} x curl's time` : ""
        }\n` +
        `  bare fetch ${median(bare).toFixed(0)} ms = ${ratio(median(bare), ideal)}` +
        (curl.length
          ? `\n  curl -Z    ${median(curl).toFixed(0)} ms = ${ratio(median(curl), ideal)}`
          : "\n  curl       not installed"),
    );
  }

  // One big file: throughput and flat memory, then the cost of verifying a checksum. Each run
  // gets a fresh server: one that has streamed a few GiB was measured to slow down. Two more
  // rounds than the other cases: one run against curl's varies from 0.7x to 1.4x on this VM.
  {
    const big = 2 ** 30;
    const rounds = repeat + 2;
    const onFreshServer = async <T>(use: (url: string[]) => Promise<T>): Promise<T> => {
      await using server = await startFileServer();
      return await use([`${server.url}/blob?bytes=${big}`]);
    };
    const sha256 = blobSha256(big);
    const plain: TaskpoolRun[] = [];
    const verified: TaskpoolRun[] = [];
    const bare: number[] = [];
    const curl: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await inTurns(i, [
        async () => void plain.push(await onFreshServer((url) => runTaskpool(url, 1))),
        async () =>
          void verified.push(await onFreshServer((url) => runTaskpool(url, 1, { sha256 }))),
        async () => void bare.push(await onFreshServer((url) => runBareFetch(url, 1))),
        async () => {
          const curlMs = await onFreshServer((url) => runCurl(url, 1));
          if (curlMs !== undefined) curl.push(curlMs);
        },
      ]);
    }
    const wall = median(plain.map((run) => run.wallMs));
    const checked = median(verified.map((run) => run.wallMs));
    const whole = median(plain.map((run) => run.wholeMs));
    const rss = Math.max(...[...plain, ...verified].map((run) => run.peakRssBytes));
    const rate = (ms: number) => `${formatBytes(big / (ms / 1000))}/s`;
    record({
      case: "1 x 1 GiB",
      taskpoolMs: wall,
      taskpoolWholeMs: whole,
      sha256VerifiedMs: checked,
      peakRssBytes: rss,
      bareFetchMs: median(bare),
      curlMs: curl.length ? median(curl) : undefined,
      ratioToCurl: curl.length ? wall / median(curl) : undefined,
    });
    console.log(
      `downloads  1 x 1 GiB, medians of ${rounds}: taskpool ${wall.toFixed(0)} ms (${
        rate(wall)
      }), ` +
        `with sha256 verified ${checked.toFixed(0)} ms (${rate(checked)}), ` +
        `peak RSS ${formatBytes(rss)}${rss <= 100e6 ? " (within 100 MB)" : " (OVER 100 MB)"}\n` +
        `  bare fetch to file ${median(bare).toFixed(0)} ms` +
        (curl.length
          ? `; curl -o ${median(curl).toFixed(0)} ms: taskpool/curl = ${
            (wall / median(curl)).toFixed(2)
          } (target <= 1; round by round ${roundRatios(plain, curl)}); as whole processes ${
            (whole / median(curl)).toFixed(2)
          }`
          : ""),
    );
  }

  // A body that decodes to 1 GiB from about 1 MB of gzip: decoding paced by the writes.
  {
    const big = 2 ** 30;
    const runs: TaskpoolRun[] = [];
    for (let i = 0; i < repeat; i++) {
      await using server = await startFileServer();
      runs.push(await runTaskpool([`${server.url}/gzip-zeros?bytes=${big}`], 1));
    }
    const wall = median(runs.map((run) => run.wallMs));
    const rss = Math.max(...runs.map((run) => run.peakRssBytes));
    record({
      case: "1 GiB decoded from gzip",
      taskpoolMs: wall,
      peakRssBytes: rss,
      targetRss: 150e6,
    });
    console.log(
      `downloads  1 GiB decoded from gzip, median of ${repeat}: ${wall.toFixed(0)} ms, peak RSS ` +
        `${formatBytes(rss)}${rss <= 150e6 ? " (within 150 MB)" : " (OVER 150 MB)"}`,
    );
  }

  // Overhead per job: tiny files, no latency.
  {
    await using server = await startFileServer();
    const tiny = Array.from({ length: 2000 }, (_, i) => `${server.url}/f/${i}.bin?bytes=16`);
    const runs: TaskpoolRun[] = [];
    for (let i = 0; i < repeat; i++) runs.push(await runTaskpool(tiny, 64));
    const wall = median(runs.map((run) => run.wallMs));
    const whole = median(runs.map((run) => run.wholeMs));
    record({
      case: "2000 x 16 B, io=64",
      taskpoolMs: wall,
      taskpoolWholeMs: whole,
      jobsPerSecond: 2000 / wall * 1000,
    });
    console.log(
      `downloads  2000 x 16 B, no latency, io=64, median of ${repeat}: ${wall.toFixed(0)} ms = ${
        (2000 / wall * 1000).toFixed(0)
      } jobs/s; whole process ${whole.toFixed(0)} ms`,
    );
  }
}

/** The range of taskpool's time over curl's, each taken from the same round. */
function roundRatios(ours: TaskpoolRun[], curl: number[]): string {
  const ratios = curl.map((ms, i) => ours[i]!.wallMs / ms).sort((a, b) => a - b);
  return `${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}`;
}
