/**
 * Static shards (`--shard K/N`, as in Playwright and Jest): the plan's jobs split into N parts
 * so that N machines, each given its K, run every job exactly once between them, with no
 * coordination. A job always lands with everything it needs and everything that needs it (the
 * needs graph's connected groups stay whole), the groups are spread so that shards get about
 * as many jobs each, and the split depends only on the plan, so every machine computes the same.
 *
 * @module
 */
import type { Job } from "../jobfile/job.ts";
import { UsageError } from "../errors.ts";

/** One shard of N, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Reads `K/N`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShard } from "./shards.ts";
 * assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
 * assert.throws(() => parseShard("4/3"), /--shard/);
 * ```
 * @throws {UsageError} for anything but `K/N` with 1 <= K <= N
 */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count || count > 10_000) {
    throw new UsageError(
      `--shard takes K/N with 1 <= K <= N (such as --shard 2/3 for the second of three): ` +
        `got "${text}"`,
    );
  }
  return { index, count };
}

/**
 * The jobs of shard `shard.index` of `shard.count`, in plan order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardOf } from "./shards.ts";
 * const job = (name: string, needs: string[] = []) => ({ name, needs });
 * const jobs = [job("a"), job("b", ["a"]), job("c"), job("d"), job("e")];
 * const parts = [1, 2].map((index) => shardOf(jobs, { index, count: 2 }).map((j) => j.name));
 * assert.deepEqual(parts, [["a", "b", "e"], ["c", "d"]]);
 * ```
 */
export function shardOf<J extends Pick<Job, "name" | "needs">>(
  jobs: readonly J[],
  shard: Shard,
): J[] {
  const owner = assignShards(jobs, shard.count);
  return jobs.filter((_, i) => owner[i] === shard.index - 1);
}

/** Each job's shard (0-based), by plan position. */
export function assignShards(
  jobs: readonly Pick<Job, "name" | "needs">[],
  count: number,
): number[] {
  // Union-find over the needs: a job and what it needs share a group.
  const index = new Map(jobs.map((job, i) => [job.name, i]));
  const parent = jobs.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  jobs.forEach((job, i) => {
    for (const need of job.needs) {
      const j = index.get(need);
      if (j === undefined) continue;
      const [a, b] = [find(i), find(j)];
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  });
  const groups = new Map<number, number[]>();
  jobs.forEach((_, i) => {
    const root = find(i);
    let members = groups.get(root);
    if (!members) groups.set(root, members = []);
    members.push(i);
  });
  // Largest groups first (ties: the earlier in the plan), each to the lightest shard (ties: the
  // lower shard): deterministic, and within one group's size of even.
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const load = new Array<number>(count).fill(0);
  const owner = new Array<number>(jobs.length);
  for (const members of ordered) {
    let lightest = 0;
    for (let k = 1; k < count; k++) if (load[k]! < load[lightest]!) lightest = k;
    load[lightest] = load[lightest]! + members.length;
    for (const i of members) owner[i] = lightest;
  }
  return owner;
}
