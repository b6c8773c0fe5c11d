/**
 * The raw figures of a bench run, kept as JSON in `bench/results/` (one file per run), so the
 * docs can quote today's figures and history stays in data, not prose.
 *
 * @module
 */

/** One measured case: its name and its numbers (ms, ratios, bytes). */
export interface Figure {
  case: string;
  [value: string]: unknown;
}

const figures: Figure[] = [];

/** Keeps `figure` for this run's results file. */
export function record(figure: Figure): void {
  figures.push(figure);
}

/** Writes this run's figures to `bench/results/<time>-<part>.json`; resolves with the path. */
export async function saveResults(part: string): Promise<string> {
  const folder = new URL("./results/", import.meta.url);
  await Deno.mkdir(folder, { recursive: true });
  const at = new Date();
  const path = new URL(`${at.toISOString().replace(/[:.]/g, "-")}-${part}.json`, folder);
  const run = {
    at: at.toISOString(),
    part,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    os: Deno.build.os,
    figures,
  };
  await Deno.writeTextFile(path, `${JSON.stringify(run, null, 2)}\n`);
  return path.pathname;
}
