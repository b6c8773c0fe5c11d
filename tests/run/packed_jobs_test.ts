/**
 * A plan's jobs packed for the child: whole again after the trip through JSON, whatever their
 * fields, and smaller than as they are when they share fields.
 */
import assert from "node:assert/strict";
import { packJobs, unpackJobs } from "../../lib/run/packed_jobs.ts";

/** Through JSON, as the handoff travels. */
const trip = (jobs: object[]) => unpackJobs(JSON.parse(JSON.stringify(packJobs(jobs))));

Deno.test("jobs come back whole: fields that change, appear, vanish, or are undefined", () => {
  const jobs = [
    { name: "a", kind: "run", needs: [], argv: ["true"], timeoutMs: undefined },
    { name: "b", kind: "run", needs: ["a"], argv: ["true"], timeoutMs: 5000 },
    { name: "c", kind: "download", needs: ["a"], url: "http://h/c", headers: { x: "1" } },
    { name: "d", kind: "download", needs: ["a"], url: "http://h/d", headers: { x: "2" } },
    { name: "e", kind: "run", needs: [], argv: ["false"] },
  ];
  // What JSON would give: undefined fields left out.
  assert.deepEqual(trip(jobs), JSON.parse(JSON.stringify(jobs)));
});

Deno.test("a fan-out's jobs travel as what differs", () => {
  const jobs = Array.from({ length: 1000 }, (_, i) => ({
    name: `f/${i}`,
    kind: "download",
    group: "f",
    needs: [],
    retries: 2,
    headers: { accept: "*/*" },
    source: { line: 4, column: 5 },
    url: `http://h/${i}`,
    relativePath: `files/${i}`,
  }));
  const packed = JSON.stringify(packJobs(jobs)).length;
  assert(packed < JSON.stringify(jobs).length / 2.5, `packed into ${packed} bytes`);
  assert.deepEqual(trip(jobs), jobs);
});

Deno.test("the objects jobs share are frozen: changing one job's cannot change another's", () => {
  const [first, second] = trip([
    { name: "a", headers: { x: "1" }, needs: ["z"] },
    { name: "b", headers: { x: "1" }, needs: ["z"] },
  ]) as { headers: Record<string, string>; needs: string[] }[];
  assert.equal(first!.headers, second!.headers); // one object
  assert.throws(() => {
    second!.headers.x = "2";
  }, TypeError);
  assert.throws(() => second!.needs.push("y"), TypeError);
  assert.equal(first!.headers.x, "1");
});
