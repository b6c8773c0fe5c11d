/**
 * The benchmark's baseline: a bare fetch loop with a concurrency limit, streaming each body to
 * a file, in a fresh process like taskpool's, so both start cold (no warm connections or JIT).
 * Prints the milliseconds from the first fetch to the last byte written.
 *
 * Usage: deno run --allow-read --allow-write --allow-net bench/bare_fetch.ts URLS_FILE DIR LIMIT
 */
const [urlsFile, dir, limit] = Deno.args;
const urls = (await Deno.readTextFile(urlsFile!)).trim().split("\n");
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: Number(limit) }, async () => {
  while (next < urls.length) {
    const index = next++;
    const response = await fetch(urls[index]!);
    const file = await Deno.open(`${dir}/${index}`, { write: true, createNew: true });
    await response.body!.pipeTo(file.writable);
  }
}));
console.log(performance.now() - t0);
