/**
 * The CPU benchmark's floor: 4 x `count(N)` on W bare Workers in a fresh process, each Worker
 * taking the next count when it answers. What a Deno program does at the least to spread the
 * counts over threads, to time as a whole process beside taskpool's `--cpu W`.
 *
 * Usage: deno run --allow-read bench/bare_cpu.ts N W
 */
const [n, size] = Deno.args.map(Number) as [number, number];
const COUNTS = 4;
let next = 0;
await Promise.all(Array.from({ length: size }, () =>
  new Promise<void>((resolve) => {
    const worker = new Worker(new URL("./bare_count_worker.ts", import.meta.url), {
      type: "module",
    });
    const take = () => {
      if (next === COUNTS) {
        worker.terminate();
        resolve();
        return;
      }
      next++;
      worker.postMessage(n);
    };
    worker.onmessage = take;
    take();
  })));
