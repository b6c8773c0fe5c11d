import assert from "node:assert/strict";
import { pruneReports, reportsOf } from "../../lib/report/history.ts";
import { loadPlan } from "../../lib/jobfile/mod.ts";
import { KINDS } from "../../tasks/mod.ts";
import { tempDir } from "../helpers/temp.ts";

const REPORT = '{\n  "version": 2,\n  "file": "jobs.yaml",\n  "jobs": []\n}\n';

Deno.test("a run in the same second as the last one gets its own report (-2, -3), kept in order", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    "output: out\nreport: reports/{date}-{time}.json\njobs:\n  - { name: t, run: ['true'] }\n",
  );
  const startedAt = new Date(2026, 11, 8, 3, 15, 0);
  const plan = () => loadPlan("jobs.yaml", { kinds: KINDS, cwd: dir.path, startedAt });
  const first = (await plan()).report;
  assert.equal(first, `${dir.path}/reports/2026-12-08-031500.json`);
  await dir.write("reports/2026-12-08-031500.json", REPORT);
  const second = (await plan()).report;
  assert.equal(second, `${dir.path}/reports/2026-12-08-031500-2.json`);
  await dir.write("reports/2026-12-08-031500-2.json", REPORT);
  assert.equal((await plan()).report, `${dir.path}/reports/2026-12-08-031500-3.json`);

  // Newest last: by time, then by count (031500-10 after -9, though its name sorts before).
  for (const name of ["031500-9", "031500-10", "031459", "031501"]) {
    await dir.write(`reports/2026-12-08-${name}.json`, REPORT);
  }
  const template = `${dir.path}/reports/{date}-{time}.json`;
  const names = async () =>
    (await reportsOf(template)).map((path) => path.split("/").at(-1)!.slice(11, -5));
  assert.deepEqual(await names(), [
    "031459",
    "031500",
    "031500-2",
    "031500-9",
    "031500-10",
    "031501",
  ]);
  await pruneReports(template, 2);
  assert.deepEqual(await names(), ["031500-10", "031501"]);

  // {date} alone asks for one report a day: a later run of the day writes it again.
  await dir.write(
    "daily.yaml",
    "output: out\nreport: reports/{date}.json\njobs:\n  - { name: t, run: ['true'] }\n",
  );
  await dir.write("reports/2026-12-08.json", REPORT);
  const daily = await loadPlan("daily.yaml", { kinds: KINDS, cwd: dir.path, startedAt });
  assert.equal(daily.report, `${dir.path}/reports/2026-12-08.json`);
});
