/**
 * The registry of job kinds: one line per kind.
 *
 * @module
 */
import type { WorkerPool } from "../lib/pools/worker_pool.ts";
import { createCommandKind } from "./command.ts";
import { createComputeKind } from "./compute.ts";
import { createDownloadKind } from "./download.ts";
import type { KindRegistry } from "./types.ts";

/** Options for {@linkcode createKinds}. */
export interface CreateKindsOptions {
  /** Absolute output folder. */
  output: string;
  /** The Workers compute jobs run on. */
  workers: WorkerPool;
  /** Shared HTTP client for downloads. */
  client?: Deno.HttpClient;
  /** Time between SIGTERM and SIGKILL for run jobs. */
  killGraceMs?: number;
}

/** Every job kind, bound to this run's resources. */
export function createKinds(options: CreateKindsOptions): KindRegistry {
  const { output, workers, client, killGraceMs } = options;
  return {
    download: createDownloadKind({ output, ...(client ? { client } : {}) }),
    compute: createComputeKind({ workers, output }),
    run: createCommandKind({ output, ...(killGraceMs !== undefined ? { killGraceMs } : {}) }),
  };
}
