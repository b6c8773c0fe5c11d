/**
 * The per-job benchmark's floor: the least a Deno program does to fetch small files, LIMIT at a
 * time: `fetch`, the body read whole, one `Deno.writeFile` each (no temporary file, no state, no
 * report). Timed as a whole process beside taskpool and curl.
 *
 * Usage: deno run --allow-read --allow-write --allow-net bench/bare_files.ts URLS_FILE DIR LIMIT
 */
const [urlsFile, dir, limit] = Deno.args;
const urls = (await Deno.readTextFile(urlsFile!)).trim().split("\n");
let next = 0;
await Promise.all(Array.from({ length: Number(limit) }, async () => {
  while (next < urls.length) {
    const index = next++;
    const response = await fetch(urls[index]!);
    await Deno.writeFile(`${dir}/${index}`, new Uint8Array(await response.arrayBuffer()));
  }
}));
