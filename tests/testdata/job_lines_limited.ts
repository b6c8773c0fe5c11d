// Keeps `count` job lines (argv: spool path, count) in a JobLines spool, as a run does, in an
// order that is not theirs, then writes them back to stdout in order. Run under `ulimit -f`, the
// spool's writes fail partway (EFBIG), as they would on a full disk.
import { JobLines } from "../../lib/report/job_lines.ts";

const [spool, counted] = Deno.args;
const count = Number(counted);
using lines = new JobLines(count, spool);
for (let i = 0; i < count; i++) {
  const index = (i * 7) % count;
  // Some lines longer than the 256 KiB the spool gathers before a write.
  const pad = index % 97 === 0 ? 300_000 : index % 300;
  lines.add(index, JSON.stringify({ index, pad: "x".repeat(pad), wide: index % 10 ? "" : "é€😀" }));
}
const { bytes, missing } = lines.read(0, count);
Deno.stdout.writeSync(bytes);
if (missing.length > 0) throw new Error(`missing: ${missing}`);
