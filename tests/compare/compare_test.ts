import assert from "node:assert/strict";
import { type ModeFigures, warningsFor } from "../../lib/compare/compare.ts";

function figures(mode: ModeFigures["mode"], walls: number[], failedRuns = 0): ModeFigures {
  const sorted = walls.toSorted((a, b) => a - b);
  return {
    mode,
    used: mode === "auto" ? "workers" : mode,
    why: "",
    runs: walls.length,
    wallMs: {
      median: sorted[Math.floor(sorted.length / 2)]!,
      min: sorted[0]!,
      max: sorted.at(-1)!,
    },
    downloadMs: 0,
    computeMs: 0,
    speedup: undefined,
    peakRssBytes: 0,
    failedRuns,
  };
}

Deno.test("warningsFor() flags short runs, a wide spread and failed runs, and nothing else", () => {
  assert.deepEqual(warningsFor([figures("sequential", [900, 1000, 1100])]), []);
  assert.deepEqual(warningsFor([figures("async", [100]), figures("workers", [2000])]), [
    "async ran under 250 ms: start-up and noise weigh more than the work; give the job file more to do",
  ]);
  assert.deepEqual(warningsFor([figures("workers", [1000, 1000, 1400])]), [
    "workers: its runs differ by 40% of the median; the machine may be busy (try more --repeat)",
  ]);
  assert.match(warningsFor([figures("processes", [1000], 1)]).join(), /did not succeed/);
});
