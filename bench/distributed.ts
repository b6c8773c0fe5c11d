/**
 * `deno task bench distributed`: runs through Redis against a local run measured beside them,
 * whole processes, on a redis-server of its own:
 *
 * - 2000 tiny compute jobs through Redis with 2 worker processes (target 1500 jobs/s);
 * - 500 x 64 KiB at 20 ms latency through 2 workers with io 32 each, against one local run with
 *   io 64 (target within 1.3x);
 * - the time from a worker's SIGKILL to its job running again on another worker, against the
 *   lease.
 *
 * @module
 */
import { median, startFileServer } from "./downloads.ts";
import { RUN_FLAGS, runCli as runJobFile } from "./run_cli.ts";
import { record } from "./results.ts";
import { startRedis, startWorker as startTestWorker } from "../tests/helpers/redis.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** A worker in `cwd` with `args`, started and stopped as the tests do. */
const startWorker = (redis: string, cwd: string, args: string[]) =>
  startTestWorker(redis, { cwd, args });

/** `taskpool run DIR/jobs.yaml ARGS` as a whole process. */
const runCli = (dir: string, args: string[]) => runJobFile(`${dir}/jobs.yaml`, args);

/** Runs the distributed benchmark. */
export async function benchDistributed(): Promise<void> {
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir({ prefix: "taskpool-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/tiny.ts`, "export default (n: number) => n + 1;\n");

    // 1. Tiny compute jobs.
    await Deno.writeTextFile(
      `${dir}/jobs.yaml`,
      "output: out\njobs:\n  - { name: t, compute: { module: ./tiny.ts, args: [1], isolation: thread }, repeat: 2000 }\n",
    );
    const local: number[] = [];
    const remote: { wholeMs: number; wallMs: number }[] = [];
    {
      await using _a = await startWorker(redis.url, dir, ["-o", "w1", "--name", "a"]);
      await using _b = await startWorker(redis.url, dir, ["-o", "w2", "--name", "b"]);
      for (let i = 0; i < 3; i++) {
        local.push((await runCli(dir, [])).wholeMs);
        remote.push(await runCli(dir, ["--redis", redis.url]));
      }
    }
    const rate = 2000 / (median(remote.map((run) => run.wholeMs)) / 1000);
    const rateInReport = 2000 / (median(remote.map((run) => run.wallMs)) / 1000);
    record({
      case: "2000 tiny compute jobs through Redis, 2 workers",
      jobsPerSecond: rate,
      jobsPerSecondInReport: rateInReport,
      localWholeMs: median(local),
      target: 1500,
    });
    console.log(
      `redis      2000 tiny compute jobs, 2 workers: ${rate.toFixed(0)} jobs/s whole process ` +
        `(${rateInReport.toFixed(0)} in the report; target 1500${
          rate >= 1500 ? " met" : " NOT met"
        }); ` +
        `one local run ${median(local).toFixed(0)} ms; medians of 3`,
    );

    // 2. Downloads through two workers against one local run.
    const download = async (server: { url: string }) => {
      const urls = Array.from(
        { length: 500 },
        (_, i) => `"${server.url}/f/${i}.bin?bytes=65536&latency=20"`,
      );
      await Deno.writeTextFile(
        `${dir}/jobs.yaml`,
        `output: out\nconcurrency: { io: 64, per_host: 64 }\njobs:\n  - { name: d, download: { urls: [${
          urls.join(", ")
        }] } }\n`,
      );
    };
    // A new server's first requests are slow: made here, no run pays for them.
    const warmUp = async (server: { url: string }) => {
      const client = Deno.createHttpClient({});
      try {
        for (let round = 0; round < 4; round++) {
          await Promise.all(Array.from({ length: 64 }, async (_, i) => {
            const response = await fetch(`${server.url}/f/${i}.bin?bytes=65536`, { client });
            await response.arrayBuffer();
          }));
        }
      } finally {
        client.close();
      }
    };
    // Every file downloaded: none found current.
    const downloaded = async (args: string[]) => {
      const run = await runCli(dir, args);
      if (run.summary.bytes !== 500 * 65536) {
        throw new Error(`not all downloaded: ${JSON.stringify(run.summary)}`);
      }
      return run.wholeMs;
    };
    const io = ["--io", "32"];
    const localDl: number[] = [];
    const runningDl: number[] = [];
    const freshDl: number[] = [];
    {
      // Workers as a fleet runs them: started once, and past their first run (made here on
      // another server) when the measured runs come.
      await using _a = await startWorker(redis.url, dir, ["-o", "ra", ...io, "--name", "ra"]);
      await using _b = await startWorker(redis.url, dir, ["-o", "rb", ...io, "--name", "rb"]);
      {
        await using other = await startFileServer();
        await download(other);
        await runCli(dir, ["--redis", redis.url]);
      }
      await using files = await startFileServer();
      await download(files);
      await warmUp(files);
      for (let i = 0; i < 5; i++) {
        localDl.push(await downloaded(["--force"]));
        runningDl.push(await downloaded(["--redis", redis.url, "--force"]));
        // Workers started for this run, with empty folders: their first run. On a database of
        // their own, so the running workers take none of its jobs.
        const apart = `${redis.url}/1`;
        await using _c = await startWorker(apart, dir, ["-o", `f${i}a`, ...io, "--name", "fa"]);
        await using _d = await startWorker(apart, dir, ["-o", `f${i}b`, ...io, "--name", "fb"]);
        freshDl.push(await downloaded(["--redis", apart, "--force"]));
      }
    }
    const ratio = median(runningDl) / median(localDl);
    const freshRatio = median(freshDl) / median(localDl);
    record({
      case: "500 x 64 KiB at 20 ms: 2 workers io 32 vs one local run io 64",
      remoteWholeMs: median(runningDl),
      localWholeMs: median(localDl),
      ratio,
      freshWorkersWholeMs: median(freshDl),
      freshWorkersRatio: freshRatio,
      target: 1.3,
    });
    console.log(
      `redis      500 x 64 KiB, 20 ms: 2 running workers (io 32 each) ${
        median(runningDl).toFixed(0)
      } ms, one local run (io 64) ${median(localDl).toFixed(0)} ms = ${ratio.toFixed(2)}x ` +
        `(target 1.3x${ratio <= 1.3 ? " met" : " NOT met"}); 2 workers started for the run ` +
        `${median(freshDl).toFixed(0)} ms = ${freshRatio.toFixed(2)}x; whole processes, ` +
        `medians of 5`,
    );

    // 3. From a worker's SIGKILL to its job running again elsewhere.
    await Deno.writeTextFile(
      `${dir}/hang.ts`,
      [
        "export default async (n: number) => {",
        "  const here = await Deno.stat(new URL('./hang-here', import.meta.url)).then(() => 1, () => 0);",
        "  if (here) await new Promise(() => {});",
        "  return n;",
        "};",
      ].join("\n"),
    );
    await Deno.mkdir(`${dir}/b`, { recursive: true });
    await Deno.copyFile(`${dir}/hang.ts`, `${dir}/b/hang.ts`);
    await Deno.writeTextFile(`${dir}/hang-here`, "");
    await Deno.writeTextFile(
      `${dir}/jobs.yaml`,
      "output: out\njobs:\n  - { name: h, compute: { module: ./hang.ts, args: [1] } }\n",
    );
    const lease = 3000;
    const doomed = await startWorker(redis.url, dir, ["--lease", "3s", "-o", "k1"]);
    const coordinator = new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_FLAGS, MAIN, "run", "jobs.yaml", "--redis", redis.url, "--json", "-q"],
      cwd: dir,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Until the doomed worker holds the job.
    const port = new URL(redis.url).port;
    for (;;) {
      const { stdout } = await new Deno.Command("redis-cli", {
        args: ["-p", port, "llen", "taskpool:cpu:active"],
        stdout: "piped",
      }).output();
      if (new TextDecoder().decode(stdout).trim() === "1") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await doomed.stop("SIGKILL");
    const killedAt = performance.now();
    await using _healthy = await startWorker(redis.url, `${dir}/b`, ["--lease", "3s", "-o", "k2"]);
    await coordinator.output();
    const again = performance.now() - killedAt;
    record({ case: "worker SIGKILL to job done elsewhere", leaseMs: lease, ms: again });
    console.log(
      `redis      a worker SIGKILLed: its job done on another ${again.toFixed(0)} ms later ` +
        `(lease ${lease} ms; a stall is found within one to two leases)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
