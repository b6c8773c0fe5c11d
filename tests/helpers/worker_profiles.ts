/**
 * Tasks and Worker profiles for pool tests. A profile grants the test modules' folder and the
 * runner's files to read, and whatever else a test grants; for a host process (flags) or for
 * threads in this process (`inProcess`: the same rights as Worker options).
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { ComputeTask } from "../../lib/pools/protocol.ts";
import type { WorkerProfile } from "../../lib/pools/worker/worker_pool.ts";
import { RUNNER_FILES } from "../../lib/pools/worker/runner_files.ts";

/** tests/testdata/work.ts, the compute module of the pool tests. */
export const WORK = new URL("../testdata/work.ts", import.meta.url).href;
const HERE = dirname(fileURLToPath(WORK));

/** A task calling `exportName` of {@linkcode WORK} with `args`. */
export function testTask(exportName: string, args: unknown[] = []): ComputeTask {
  return { moduleUrl: WORK, exportName, args, context: { output: "/out", job: "t" } };
}

/** What a test profile grants beyond reading the test modules and the runner. */
export interface TestRights {
  read?: string[];
  /** Hosts (host[:port]) it may reach. @default none */
  net?: string[];
  /** Threads in this process (isolation: thread) rather than in a host process. */
  inProcess?: boolean;
}

/** The profile with `rights`. */
export function testProfile(rights: TestRights = {}): WorkerProfile {
  const { read = [], net, inProcess = false } = rights;
  const readable = [HERE, ...RUNNER_FILES, ...read];
  const flags = [`--allow-read=${readable}`, ...(net ? [`--allow-net=${net}`] : [])];
  if (!inProcess) return { flags };
  const none = { run: false, ffi: false, sys: false, import: false, write: false, env: false };
  return { flags, permissions: { ...none, read: readable, net: net ?? false } };
}
