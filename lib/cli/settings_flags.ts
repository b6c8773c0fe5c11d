/**
 * `--set key=value` and `--env-file FILE`, shared by the commands that read a job file.
 *
 * @module
 */
import { resolve } from "../util/posix_path.ts";
import type { Environment } from "../jobfile/interpolate.ts";

/** Their `parseArgs` options. */
export const SETTINGS_FLAGS = {
  set: { type: "string", multiple: true },
  "env-file": { type: "string", multiple: true },
} as const;

/** Their lines of a command's help. */
export const SETTINGS_HELP =
  `      --set KEY=VALUE    override a top-level setting (output, report, concurrency.io,
                         defaults.retries, ...); VALUE is read as YAML; repeatable
      --env-file FILE    variables for \${VAR} and for commands, NAME=value lines; the
                         environment wins over the file; repeatable`;

/** What `loadPlan` takes from these flags, and what they read (for the run's grants). */
export interface FlagSettings {
  /** The `--set` settings. */
  settings: string[];
  /** Where `${VAR}` values come from: the environment, each name asked for noted. */
  env: Environment;
  /** The variables the env files define and the job file asked for (as `loadPlan` asks). */
  envNames: Set<string>;
  /** The env files, absolute. */
  envFiles: string[];
}

/**
 * Loads the env files (into the environment) and returns the settings for `loadPlan`.
 *
 * @throws {UsageError} for an env file that cannot be read or is malformed
 */
export async function settingsFrom(
  values: { set?: string[] | undefined; "env-file"?: string[] | undefined },
): Promise<FlagSettings> {
  const envFiles = values["env-file"] ?? [];
  // Loaded when there are env files: a run's child parses these flags, and reads none.
  const envNames = new Set(
    envFiles.length === 0
      ? []
      : await (await import("../jobfile/env_file.ts")).loadEnvFiles(envFiles),
  );
  const env: Environment = (name) => {
    envNames.add(name);
    return Deno.env.get(name);
  };
  return {
    settings: values.set ?? [],
    env,
    envNames,
    envFiles: envFiles.map((file) => resolve(file)),
  };
}
