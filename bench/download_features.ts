/**
 * `deno task bench features`: the download features curl, wget and aria2 users rely on, timed
 * as whole processes:
 *
 * - the bandwidth limit's accuracy: 16 MiB in four parallel downloads at `--limit-rate 4MiB/s`
 *   (target 4 s +-10%), with equal files and with files that end at different times;
 * - the limit's cost: CPU time (user + system, the whole process tree) per GiB against no limit;
 * - split downloads against a per-connection cap of 2 MiB/s: a 32 MiB file with `segments: 8`
 *   against `segments: 1` (target at least 6x faster);
 * - mirrors: a failing first source hands over to a mirror within one back-off.
 *
 * @module
 */
import { median, startFileServer } from "./downloads.ts";
import { RUN_FLAGS } from "./run_cli.ts";
import { record } from "./results.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MiB = 2 ** 20;

/** A run of `taskpool run` in its own process: its wall and CPU time, and its report. */
interface TimedRun {
  wholeMs: number;
  /** User + system CPU of the whole process tree, in ms. */
  cpuMs: number;
  wallMs: number;
  jobs: { status: string; attempts: number; servedBy?: string }[];
}

/** Runs `taskpool run FILE ARGS` under bash, whose `times` gives the children's CPU time. */
async function timedRun(yaml: string, args: string[] = []): Promise<TimedRun> {
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/jobs.yaml`, yaml);
    const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
    const command = [Deno.execPath(), "run", ...RUN_FLAGS, `${ROOT}main.ts`, "run", "jobs.yaml"]
      .concat(["--json", "-q", ...args]).map(quote).join(" ");
    const started = performance.now();
    const output = await new Deno.Command("bash", {
      args: ["-c", `${command} > summary.json; status=$?; times; exit $status`],
      cwd: dir,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const wholeMs = performance.now() - started;
    if (!output.success) throw new Error(`taskpool failed in ${dir}`);
    // `times`: the shell's user and system time, then its children's.
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    const seconds = (text: string) => {
      const match = /^(\d+)m([\d.]+)s$/.exec(text)!;
      return Number(match[1]) * 60 + Number(match[2]);
    };
    const [user, system] = lines.at(-1)!.split(/\s+/);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/downloads/report.json`));
    return {
      wholeMs,
      cpuMs: (seconds(user!) + seconds(system!)) * 1000,
      wallMs: report.wallMs,
      jobs: report.jobs,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function jobFile(lines: string[], concurrency = "io: 16"): string {
  return [`concurrency: { ${concurrency} }`, "jobs:", ...lines].join("\n");
}

/** Runs the features benchmark. */
export async function benchDownloadFeatures(): Promise<void> {
  await using server = await startFileServer();
  const fourEqual = [4, 4, 4, 4].map((mib, i) => `"${server.url}/ranged/f${i}?bytes=${mib * MiB}"`);
  const uneven = [1, 3, 5, 7].map((mib, i) => `"${server.url}/ranged/f${i}?bytes=${mib * MiB}"`);

  // 1. Accuracy of the limit.
  for (const [label, urls] of [["4 x 4 MiB", fourEqual], ["1+3+5+7 MiB", uneven]] as const) {
    const runs: TimedRun[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(
        await timedRun(jobFile([`  - { name: f, download: { urls: [${urls.join(", ")}] } }`]), [
          "--limit-rate",
          "4MiB/s",
        ]),
      );
    }
    const whole = median(runs.map((run) => run.wholeMs));
    const wall = median(runs.map((run) => run.wallMs));
    const error = (wall - 4000) / 4000;
    record({ case: `limit-rate 4MiB/s, ${label}`, targetMs: 4000, wallMs: wall, wholeMs: whole });
    console.log(
      `limit      16 MiB as ${label} at --limit-rate 4MiB/s: in report ${wall.toFixed(0)} ms ` +
        `(${(error * 100).toFixed(1)}% from 4000 ms${
          Math.abs(error) <= 0.1 ? ", target met" : ", target +-10% NOT met"
        }), whole process ${whole.toFixed(0)} ms; medians of 3`,
    );
  }

  // 2. The limit's cost in CPU time: 1 GiB with no limit, and paced by a limit it never reaches.
  const gib = [
    `  - { name: f, download: { url: "${server.url}/blob?bytes=${2 ** 30}", to: g.bin } }`,
  ];
  const free: TimedRun[] = [];
  const paced: TimedRun[] = [];
  for (let i = 0; i < 3; i++) {
    free.push(await timedRun(jobFile(gib)));
    paced.push(await timedRun(jobFile(gib, "io: 16, bandwidth: 64GiB/s")));
  }
  const freeCpu = median(free.map((run) => run.cpuMs));
  const pacedCpu = median(paced.map((run) => run.cpuMs));
  record({
    case: "1 GiB, CPU time with and without a limit",
    freeCpuMs: freeCpu,
    pacedCpuMs: pacedCpu,
    freeWholeMs: median(free.map((run) => run.wholeMs)),
    pacedWholeMs: median(paced.map((run) => run.wholeMs)),
  });
  console.log(
    `limit      1 GiB: CPU ${freeCpu.toFixed(0)} ms without a limit, ${pacedCpu.toFixed(0)} ms ` +
      `paced by one (+${(pacedCpu - freeCpu).toFixed(0)} ms per GiB); whole process ` +
      `${median(free.map((run) => run.wholeMs)).toFixed(0)} / ` +
      `${median(paced.map((run) => run.wholeMs)).toFixed(0)} ms; medians of 3`,
  );

  // 3. Split downloads against a per-connection cap.
  const capped = `${server.url}/ranged/big?bytes=${32 * MiB}&cap=${2 * MiB}`;
  const split = (segments: number) =>
    timedRun(
      jobFile([
        `  - { name: f, download: { url: "${capped}", to: big.bin, segments: ${segments} } }`,
      ]),
    );
  const eight = await split(8);
  const one = await split(1);
  const speedup = one.wholeMs / eight.wholeMs;
  record({
    case: "32 MiB at 2 MiB/s per connection, segments 8 vs 1",
    oneWholeMs: one.wholeMs,
    eightWholeMs: eight.wholeMs,
    oneWallMs: one.wallMs,
    eightWallMs: eight.wallMs,
    speedup,
    target: 6,
  });
  console.log(
    `segments   32 MiB, 2 MiB/s per connection: segments 8 ${eight.wholeMs.toFixed(0)} ms, ` +
      `1 ${one.wholeMs.toFixed(0)} ms whole process = ${speedup.toFixed(2)}x (target 6x${
        speedup >= 6 ? " met" : " NOT met"
      }); in report ${eight.wallMs.toFixed(0)} / ${one.wallMs.toFixed(0)} ms`,
  );

  // 4. Mirrors: the first source fails (503 then refused), the mirror serves; back-off 2 s.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = `http://127.0.0.1:${listener.addr.port}/x.bin`;
  listener.close();
  const good = `${server.url}/f/x.bin?bytes=65536`;
  const direct: number[] = [];
  const failover: number[] = [];
  for (let i = 0; i < 3; i++) {
    direct.push(
      (await timedRun(jobFile([`  - { name: f, backoff: 2s, download: { url: "${good}" } }`])))
        .wholeMs,
    );
    const run = await timedRun(
      jobFile([
        `  - { name: f, backoff: 2s, download: { url: "${refused}", mirrors: ["${good}"] } }`,
      ]),
    );
    if (run.jobs[0]!.attempts !== 1) throw new Error("the failover took a retry");
    failover.push(run.wholeMs);
  }
  const extra = median(failover) - median(direct);
  record({
    case: "mirror failover, back-off 2 s",
    directWholeMs: median(direct),
    failoverWholeMs: median(failover),
  });
  console.log(
    `mirrors    a refused source, then its mirror: ${median(failover).toFixed(0)} ms against ` +
      `${median(direct).toFixed(0)} ms straight from the mirror (+${extra.toFixed(0)} ms; one ` +
      `back-off is 2000 ms${extra < 2000 ? ", within it" : ", NOT within it"}); medians of 3`,
  );
}
