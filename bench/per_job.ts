/**
 * `deno task bench perjob`: what each job costs, as whole processes: N tiny files (16 B, no
 * latency, io 64) against curl with the same parallelism and against the floor of a bare Deno
 * loop (bench/bare_files.ts), and N tiny compute jobs, at growing N,
 * with the time and the peak resident memory of the largest process (`/usr/bin/time -f %M`), the
 * report's bytes per job, and the slope between the sizes: the cost of one more job.
 *
 * @module
 */
import { startFileServer } from "./downloads.ts";
import { RUN_FLAGS } from "./run_cli.ts";
import { record } from "./results.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const BARE = new URL("./bare_files.ts", import.meta.url).pathname;

interface Measured {
  wholeMs: number;
  /** The largest process's peak RSS, in bytes. */
  peakRss: number;
  reportBytes?: number;
}

/** Runs `command` under `/usr/bin/time`; resolves with its time and peak RSS. */
async function timed(command: string[], cwd: string): Promise<Measured> {
  const started = performance.now();
  const output = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "maxrss %M", ...command],
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  const wholeMs = performance.now() - started;
  const text = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command[0]} failed:\n${text.slice(-2000)}`);
  const kib = Number(/maxrss (\d+)/.exec(text)?.[1] ?? 0);
  return { wholeMs, peakRss: kib * 1024 };
}

async function taskpool(dir: string, yaml: string): Promise<Measured> {
  await Deno.writeTextFile(`${dir}/jobs.yaml`, yaml);
  const measured = await timed(
    [Deno.execPath(), "run", ...RUN_FLAGS, MAIN, "run", "jobs.yaml", "-q", "--force"],
    dir,
  );
  const output = /^output: (\S+)/.exec(yaml)![1]!;
  const report = await Deno.stat(`${dir}/${output}/report.json`);
  return { ...measured, reportBytes: report.size };
}

/** Rounds at `n` jobs: three where a round is short. */
const roundsFor = (n: number) => n <= 10_000 ? 3 : 1;

/** The run of median time. */
function medianRun(runs: Measured[]): Measured {
  return runs.toSorted((a, b) => a.wholeMs - b.wholeMs)[Math.floor(runs.length / 2)]!;
}

const MB = 1e6;

/** The targets at `n` jobs, met or not: 10,000 tiny files within 1.2 x curl and 60 MB,
 * 100,000 jobs within 250 MB. */
function targetOf(n: number, ours: Measured, curl?: Measured): string {
  const met = (ok: boolean) => ok ? "met" : "NOT met";
  if (n === 10_000 && curl) {
    const ratio = ours.wholeMs / curl.wholeMs;
    return `; target 1.2x curl: ${met(ratio <= 1.2)}, 60 MB: ${met(ours.peakRss <= 60 * MB)}`;
  }
  if (n === 100_000) return `; target 250 MB: ${met(ours.peakRss <= 250 * MB)}`;
  return "";
}

/** Runs the per-job benchmark. */
export async function benchPerJob(): Promise<void> {
  await using server = await startFileServer();
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    const sizes = [1000, 10_000, 100_000];
    const downloads: Measured[] = [];
    const curls: Measured[] = [];
    const bares: Measured[] = [];
    for (const n of sizes) {
      const urls = Array.from({ length: n }, (_, i) => `${server.url}/f/${i}?bytes=16`);
      await Deno.writeTextFile(`${dir}/urls.txt`, urls.join("\n"));
      // Rounds alternate which goes first, each into a fresh folder, and the disk settles
      // between sizes: creating files here is as fast or as slow as the disk is at the moment.
      const ours: Measured[] = [];
      const peers: Measured[] = [];
      const floors: Measured[] = [];
      for (let round = 0; round < roundsFor(n); round++) {
        const runOurs = async () =>
          ours.push(
            await taskpool(
              dir,
              `output: out${round}\nconcurrency: { io: 64, per_host: 64 }\n` +
                "jobs:\n  - { name: f, download: { urls_from: urls.txt, to: files/ } }\n",
            ),
          );
        const runCurl = async () => {
          await Deno.mkdir(`${dir}/curl${round}`, { recursive: true });
          await Deno.writeTextFile(
            `${dir}/curl.conf`,
            urls.map((url, i) => `url = "${url}"\noutput = "${dir}/curl${round}/${i}"\n`).join(""),
          );
          peers.push(
            await timed(
              ["curl", "-s", "--fail", "-Z", "--parallel-max", "64", "-K", "curl.conf"],
              dir,
            ),
          );
        };
        const runBare = async () => {
          await Deno.mkdir(`${dir}/bare${round}`, { recursive: true });
          floors.push(
            await timed(
              [Deno.execPath(), "run", "-A", BARE, "urls.txt", `bare${round}`, "64"],
              dir,
            ),
          );
        };
        // Each goes first in turn.
        const order = [runOurs, runCurl, runBare];
        for (let i = 0; i < order.length; i++) await order[(round + i) % order.length]!();
      }
      for (const entry of Deno.readDirSync(dir)) {
        if (/^(out|curl|bare)\d+$/.test(entry.name)) {
          await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
        }
      }
      await new Deno.Command("sync").output();
      downloads.push(medianRun(ours));
      curls.push(medianRun(peers));
      bares.push(medianRun(floors));
      const [mine, peer, floor] = [downloads.at(-1)!, curls.at(-1)!, bares.at(-1)!];
      record({
        case: `${n} tiny files, io 64`,
        wholeMs: mine.wholeMs,
        peakRss: mine.peakRss,
        reportBytesPerJob: mine.reportBytes! / n,
        curlMs: peer.wholeMs,
        curlPeakRss: peer.peakRss,
        bareMs: floor.wholeMs,
        barePeakRss: floor.peakRss,
        rounds: ours.length,
      });
      console.log(
        `per job    ${n} tiny files, io 64: ${mine.wholeMs.toFixed(0)} ms, ` +
          `${(mine.peakRss / MB).toFixed(0)} MB = ${(mine.wholeMs / peer.wholeMs).toFixed(2)}x ` +
          `curl's ${peer.wholeMs.toFixed(0)} ms, ${(peer.peakRss / MB).toFixed(0)} MB; report ` +
          `${(mine.reportBytes! / n).toFixed(0)} B a job (medians of ${ours.length})` +
          targetOf(n, mine, peer),
      );
      console.log(
        `per job    ${n} tiny files on a bare Deno loop (fetch, writeFile; the floor): ` +
          `${floor.wholeMs.toFixed(0)} ms, ${(floor.peakRss / MB).toFixed(0)} MB = ` +
          `${(floor.wholeMs / peer.wholeMs).toFixed(2)}x curl; taskpool ` +
          `${(mine.wholeMs / floor.wholeMs).toFixed(2)}x the floor`,
      );
    }
    const slope = (runs: Measured[], key: "wholeMs" | "peakRss") =>
      (runs.at(-1)![key] - runs.at(-2)![key]) / (sizes.at(-1)! - sizes.at(-2)!);
    console.log(
      `per job    one more tiny file: ${slope(downloads, "wholeMs").toFixed(3)} ms and ` +
        `${(slope(downloads, "peakRss") / 1024).toFixed(1)} KiB (curl ` +
        `${slope(curls, "wholeMs").toFixed(3)} ms, ${
          (slope(curls, "peakRss") / 1024).toFixed(1)
        } KiB)`,
    );

    await Deno.writeTextFile(`${dir}/tiny.ts`, "export default (n: number) => n + 1;\n");
    const computes: Measured[] = [];
    for (const n of sizes) {
      await Deno.remove(`${dir}/out`, { recursive: true }).catch(() => {});
      computes.push(
        await taskpool(
          dir,
          `output: out\njobs:\n  - { name: t, compute: { module: ./tiny.ts, args: [1], ` +
            `isolation: thread }, repeat: ${n} }\n`,
        ),
      );
      const ours = computes.at(-1)!;
      record({
        case: `${n} tiny compute jobs`,
        wholeMs: ours.wholeMs,
        peakRss: ours.peakRss,
        reportBytesPerJob: ours.reportBytes! / n,
      });
      console.log(
        `per job    ${n} tiny compute jobs (thread): ${ours.wholeMs.toFixed(0)} ms, ` +
          `${(ours.peakRss / MB).toFixed(0)} MB; report ${
            (ours.reportBytes! / n).toFixed(0)
          } B a job${targetOf(n, ours)}`,
      );
    }
    console.log(
      `per job    one more tiny compute job: ${slope(computes, "wholeMs").toFixed(3)} ms and ` +
        `${(slope(computes, "peakRss") / 1024).toFixed(1)} KiB`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
