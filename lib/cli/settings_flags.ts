/**
 * `--set key=value` and `--env-file FILE`, shared by the commands that read a job file.
 *
 * @module
 */
import { loadEnvFiles } from "../env_file.ts";

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

/**
 * Loads the env files (into the environment) and returns the `--set` settings for `loadPlan`.
 *
 * @throws {UsageError} for an env file that cannot be read or is malformed
 */
export async function settingsFrom(
  values: { set?: string[] | undefined; "env-file"?: string[] | undefined },
): Promise<{ settings: string[] }> {
  await loadEnvFiles(values["env-file"] ?? []);
  return { settings: values.set ?? [] };
}
