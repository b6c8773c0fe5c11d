/**
 * Static shards: every job in exactly one shard, a job always with what it needs, balanced by
 * job count, the same split every time; and `taskpool merge` putting the shards' reports back
 * into one, through the real CLI.
 */
import assert from "node:assert/strict";
import { assignShards, shardOf } from "../../lib/run/shards.ts";
import { cli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";
import type { Report } from "../../lib/report/types.ts";

/** A pseudo-random plan: fan-outs, chains and diamonds, seeded. */
function randomJobs(seed: number, count: number): { name: string; needs: string[] }[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, (_, i) => ({
    name: `j${i}`,
    needs: i > 0 && next() < 0.3 ? [`j${Math.floor(next() * i)}`] : [],
  }));
}

/** The sizes of the groups of jobs linked by needs. */
function groupSizes(jobs: { name: string; needs: string[] }[]): number[] {
  const group = new Map<string, Set<string>>();
  for (const job of jobs) {
    let mine = group.get(job.name) ?? new Set([job.name]);
    for (const need of job.needs) {
      const theirs = group.get(need) ?? new Set([need]);
      if (theirs !== mine) {
        for (const name of mine) theirs.add(name);
        mine = theirs;
      }
    }
    for (const name of mine) group.set(name, mine);
  }
  return [...new Set(group.values())].map((members) => members.size);
}

Deno.test("shards: every job once, with everything it needs, balanced, the same each time", () => {
  for (const [seed, count, shards] of [[1, 500, 3], [7, 1000, 8], [42, 40, 5], [3, 10, 10]]) {
    const jobs = randomJobs(seed!, count!);
    const parts = Array.from(
      { length: shards! },
      (_, k) => shardOf(jobs, { index: k + 1, count: shards! }).map((job) => job.name),
    );
    const all = parts.flat();
    assert.equal(all.length, jobs.length, "every job in one shard");
    assert.equal(new Set(all).size, jobs.length, "no job in two");
    parts.forEach((names) => {
      const here = new Set(names);
      for (const name of names) {
        for (const need of jobs.find((job) => job.name === name)!.needs) {
          assert.ok(here.has(need), `${name} needs ${need}, which is in another shard`);
        }
      }
    });
    // Even within the largest group of jobs that must stay together.
    const sizes = parts.map((names) => names.length);
    const largest = Math.max(...groupSizes(jobs));
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= largest, `${sizes}, group ${largest}`);
    const owner = assignShards(jobs, shards!);
    assert.deepEqual(assignShards(randomJobs(seed!, count!), shards!), owner, "deterministic");
  }
  // Independent jobs split evenly.
  const free = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, needs: [] }));
  assert.deepEqual(
    [1, 2, 3].map((index) => shardOf(free, { index, count: 3 }).length),
    [4, 3, 3],
  );
});

Deno.test("run --shard K/N on each machine, then taskpool merge: one report of every job", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "output: out",
      "jobs:",
      '  - { name: first, run: [sh, -c, "echo 1 > \\"$TASKPOOL_OUTPUT/first\\""] }',
      '  - { name: second, needs: [first], run: [cat, "out/first"] }',
      '  - { name: many, run: ["true"], repeat: 6 }',
      '  - { name: broken, run: ["false"] }',
    ].join("\n"),
  );
  const bad = await cli(["run", "jobs.yaml", "--shard", "3/2"], { cwd: dir.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--shard takes K\/N with 1 <= K <= N/);

  const codes: number[] = [];
  for (const k of [1, 2, 3]) {
    const planned = await cli(["plan", "jobs.yaml", "--shard", `${k}/3`, "--json"], {
      cwd: dir.path,
    });
    assert.equal(JSON.parse(planned.stdout).shard, `${k}/3`);
    const run = await cli(
      ["run", "jobs.yaml", "--shard", `${k}/3`, "--report", `r${k}.json`, "-q"],
      { cwd: dir.path },
    );
    assert.match(run.stderr, new RegExp(`shard ${k}/3: 3 of 9 jobs`));
    codes.push(run.code);
  }
  assert.deepEqual(codes.toSorted(), [0, 0, 1], "the shard with the broken job fails");

  const merged = await cli(
    ["merge", "r1.json", "r2.json", "r3.json", "-o", "all.json", "--html", "all.html"],
    { cwd: dir.path },
  );
  assert.equal(merged.code, 1, merged.stderr);
  assert.match(merged.stdout, /taskpool: FAILED 9 jobs: 8 ok, 0 cached, 1 failed/);
  assert.match(merged.stdout, /failed {2}broken \(shard \d\/3\): false exited with code 1/);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/all.json`));
  assert.equal(report.jobs.length, 9);
  assert.deepEqual(report.merged!.map((source) => source.label), [
    "shard 1/3",
    "shard 2/3",
    "shard 3/3",
  ]);
  const second = report.jobs.find((job) => job.name === "second")!;
  const first = report.jobs.find((job) => job.name === "first")!;
  assert.equal(first.ranOn, second.ranOn, "a job ran with what it needs");
  assert.ok(second.startMs! >= first.endMs, "one time axis: the need ended first");
  const html = await Deno.readTextFile(`${dir.path}/all.html`);
  for (const label of ["shard 1/3", "shard 2/3", "shard 3/3"]) assert.ok(html.includes(label));

  // What it reads and what it writes stay apart: a merged report over a shard's counts it twice.
  const shard = await Deno.readTextFile(`${dir.path}/r1.json`);
  for (
    const [flags, message] of [
      [["-o", "r1.json"], /--output r1\.json is one of the reports it merges/],
      [["--html", "r2.json"], /--html r2\.json is one of the reports it merges/],
      [["-o", "all.json", "--trace", "all.json"], /--trace all\.json is the merged report/],
      [["-o", "."], /--output \. is a folder, not a file/],
    ] as const
  ) {
    const refused = await cli(["merge", "r1.json", "r2.json", "r3.json", ...flags], {
      cwd: dir.path,
    });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, message);
  }
  assert.equal(await Deno.readTextFile(`${dir.path}/r1.json`), shard);

  // A shard run again for what failed: its better outcome wins in the merge.
  await dir.write(
    "jobs.yaml",
    (await Deno.readTextFile(`${dir.path}/jobs.yaml`)).replace('["false"]', '["true"]'),
  );
  const failedIn = report.jobs.find((job) => job.name === "broken")!.ranOn!.replace("shard ", "");
  const again = await cli(
    [
      "run",
      "jobs.yaml",
      "--shard",
      failedIn,
      "--rerun-failed",
      `r${failedIn[0]}.json`,
      "--report",
      "again.json",
    ],
    { cwd: dir.path },
  );
  assert.equal(again.code, 0, again.stderr);
  const fixed = await cli(["merge", "r1.json", "r2.json", "r3.json", "again.json"], {
    cwd: dir.path,
  });
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.match(fixed.stdout, /taskpool: OK 9 jobs: 9 ok/);
});

Deno.test("taskpool merge of reports of two job files keeps apart two jobs of one name", async () => {
  await using dir = await tempDir();
  await dir.write(
    "a.yaml",
    "output: a\njobs:\n  - { name: t, run: ['true'] }\n  - { name: only-a, run: ['true'] }\n",
  );
  await dir.write("b.yaml", "output: b\njobs:\n  - { name: t, run: ['false'] }\n");
  for (const file of ["a.yaml", "b.yaml"]) {
    await cli(["run", file, "-q", "--report", `${file}.json`], { cwd: dir.path });
  }
  const merged = await cli(["merge", "a.yaml.json", "b.yaml.json", "-o", "m.json"], {
    cwd: dir.path,
  });
  assert.equal(merged.code, 1, merged.stdout);
  const report: Report = JSON.parse(await Deno.readTextFile(`${dir.path}/m.json`));
  assert.deepEqual(
    report.jobs.map((job) => [job.name, job.status]),
    [["a.yaml:t", "ok"], ["only-a", "ok"], ["b.yaml:t", "failed"]],
  );
  assert.match(merged.stdout, /taskpool: FAILED 3 jobs: 2 ok/);
});
