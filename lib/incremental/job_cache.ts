/**
 * What incremental compute and run jobs remember between runs, in
 * `<output>/.taskpool/jobs.json`: per job name, the fingerprint of its last successful run (its
 * definition and the content of its inputs) and its result. Written atomically at the end of a
 * run, also an interrupted one. A missing or unreadable file only costs reruns.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { expandGlob } from "../util/glob.ts";
import type { Job } from "../jobfile/job.ts";
import { writeTextFileAtomic } from "../util/write_atomic.ts";

/** One job's last successful run. */
export interface JobRecord {
  fingerprint: string;
  /** The compute result or the exit code, reported again when the job is cached. */
  result?: unknown;
  exitCode?: number;
}

/** Results larger than this (as JSON) are not kept: the job is then reported without one. */
const MAX_RESULT_CHARS = 64 * 1024;

/** The cache file's path for an output folder. */
export function jobCachePath(output: string): string {
  return join(output, ".taskpool", "jobs.json");
}

/**
 * The job cache of one output folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JobCache } from "./job_cache.ts";
 * const dir = await Deno.makeTempDir();
 * const cache = await JobCache.load(dir);
 * cache.set("a", { fingerprint: "f1", result: 3 });
 * await cache.save();
 * assert((await JobCache.load(dir)).get("a")?.result === 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JobCache {
  readonly #path: string;
  readonly #records: Map<string, JobRecord>;
  #dirty = false;

  private constructor(path: string, records: Map<string, JobRecord>) {
    this.#path = path;
    this.#records = records;
  }

  /** Reads the cache of `output`; empty when there is none or it cannot be read. */
  static async load(output: string): Promise<JobCache> {
    const path = jobCachePath(output);
    const records = new Map<string, JobRecord>();
    try {
      const parsed = JSON.parse(await Deno.readTextFile(path));
      if (parsed?.version === 1 && parsed.jobs && typeof parsed.jobs === "object") {
        for (const [name, record] of Object.entries(parsed.jobs)) {
          if (typeof (record as JobRecord)?.fingerprint === "string") {
            records.set(name, record as JobRecord);
          }
        }
      }
    } catch {
      // None yet, or damaged: every job runs.
    }
    return new JobCache(path, records);
  }

  get(name: string): JobRecord | undefined {
    return this.#records.get(name);
  }

  /** Records a successful run, or forgets one (undefined). */
  set(name: string, record: JobRecord | undefined): void {
    if (record === undefined) {
      this.#dirty ||= this.#records.delete(name);
      return;
    }
    const result = record.result === undefined ? undefined : JSON.stringify(record.result);
    const kept = result !== undefined && result.length > MAX_RESULT_CHARS
      ? { ...record, result: undefined }
      : record;
    this.#records.set(name, kept);
    this.#dirty = true;
  }

  /** Writes the cache if anything changed. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const jobs = Object.fromEntries(this.#records);
    await writeTextFileAtomic(this.#path, `${JSON.stringify({ version: 1, jobs })}\n`);
    this.#dirty = false;
  }
}

/**
 * The fingerprint of a job as it would run now: its definition (all but where it stands in the
 * job file), the content of `definitionFiles` (a compute job's module and the local modules it
 * imports), and the paths and SHA-256 of every file its inputs match.
 */
export async function fingerprintOf(
  job: Job,
  definitionFiles: readonly string[] = [],
): Promise<string> {
  const { createHash } = await import("node:crypto"); // only runs with incremental jobs load it
  const hash = createHash("sha256");
  const { source: _source, ...definition } = job;
  hash.update(JSON.stringify(definition));
  for (const file of definitionFiles) {
    hash.update(`\0module\0${file}\0${await fileSha256(file)}`);
  }
  for (const pattern of job.cache?.inputs ?? []) {
    const files = await expandGlob(pattern);
    hash.update(`\0inputs ${pattern} ${files.length}`);
    for (const file of files) hash.update(`\0${file}\0${await fileSha256(file)}`);
  }
  return hash.digest("hex");
}

async function fileSha256(path: string): Promise<string> {
  const { createHash } = await import("node:crypto"); // only runs with incremental jobs load it
  const hash = createHash("sha256");
  const file = await Deno.open(path); // its readable closes it
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}
