import assert from "node:assert/strict";
import { JobLines } from "../../lib/report/job_lines.ts";
import { tempDir } from "../helpers/temp.ts";

const decoder = new TextDecoder();

Deno.test("JobLines gives back every line in its place: any order, lines longer than its buffer, reads between additions", async () => {
  await using dir = await tempDir();
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 8; round++) {
    const count = 500 + Math.floor(random() * 2500);
    // Some lines of up to 400 KB (over the 256 KiB the spool gathers before a write), some with
    // characters of two to four bytes.
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        i,
        pad: "x".repeat(random() < 0.005 ? 300_000 + random() * 100_000 : random() * 300),
        wide: random() < 0.1 ? "é€😀" : "",
      }));
    const order = Array.from({ length: count }, (_, i) => i).sort(() => random() - 0.5);
    using spool = new JobLines(count, `${dir.path}/spool-${round}`);
    const added = new Set<number>();
    for (const index of order) {
      if (random() < 0.05) continue; // never finished
      spool.add(index, lines[index]!);
      added.add(index);
      if (random() < 0.003) spool.read(0, count); // a report written while the run goes on
    }
    for (let start = 0; start < count; start += 1000) {
      const end = Math.min(count, start + 1000);
      const { bytes, missing } = spool.read(start, end, "  ");
      const range = Array.from({ length: end - start }, (_, i) => start + i);
      assert.equal(
        decoder.decode(bytes),
        range.filter((i) => added.has(i)).map((i) => lines[i]).join(",\n  "),
      );
      assert.deepEqual(missing, range.filter((i) => !added.has(i)));
    }
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("JobLines keeps every line in memory when its spool cannot be written (a full disk)", async () => {
  await using dir = await tempDir();
  const count = 3000; // coprime with the fixture's stride 7
  const fixture = new URL("../testdata/job_lines_limited.ts", import.meta.url).pathname;
  // Writes past 64 KiB fail with EFBIG, as the kernel's file size limit makes them.
  const script = 'trap "" XFSZ; ulimit -f 128; exec "$0" "$@"';
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: ["-c", script, Deno.execPath(), "run", "-A", fixture, `${dir.path}/spool`, `${count}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, decoder.decode(stderr));
  const expected = Array.from({ length: count }, (_, index) => {
    const pad = index % 97 === 0 ? 300_000 : index % 300;
    return JSON.stringify({ index, pad: "x".repeat(pad), wide: index % 10 ? "" : "é€😀" });
  });
  assert.equal(decoder.decode(stdout), expected.join(",\n"));
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});
