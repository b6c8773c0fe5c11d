/**
 * A command job (`run:`) as the plan holds it, and what one returns.
 *
 * @module
 */
import type { Job } from "../../lib/jobfile/job.ts";
import type { TaskResult } from "../../lib/scheduler/kind.ts";

/** Run a program without a shell. */
export interface RunJob extends Job {
  kind: "run";
  argv: [string, ...string[]];
  cwd: string;
  /** Variables added to taskpool's environment, or the whole environment with `clearEnv`. */
  env: Record<string, string>;
  /** Start from an empty environment: the command sees `env` and TASKPOOL_* only. */
  clearEnv: boolean;
  /**
   * Values of its argv and env that came from the environment (`${VAR}`), which `plan` shows as
   * `***`; absent when none did.
   */
  secrets?: string[];
  /** Absolute path of the job's stdout+stderr log. */
  logPath: string;
  /** Time between SIGTERM and SIGKILL for its process group; the run's default if unset. */
  killGraceMs?: number;
}

/** What a successful command returns. */
export interface CommandResult extends TaskResult {
  /** The process exit code. */
  exitCode?: number;
  /** The process id. */
  pid?: number;
}
