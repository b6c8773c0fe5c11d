/**
 * The files a runner thread loads, which a Worker host's permissions must let it read: nothing
 * else of taskpool's. From source, the runner entries and every module they import; in the
 * bundle, the two entries alone: tools/finish_bundle.ts bundles each whole, with no chunk.
 *
 * @module
 */
import { BUNDLED, filePath, ownFileUrl } from "../../util/own_files.ts";

/** The runner threads' entry modules, from the repository's root. */
export const RUNNER_ENTRIES: readonly string[] = [
  "lib/pools/worker/web_runner.ts",
  "lib/pools/worker/node_runner.ts",
];

/** Absolute paths of the files a runner thread reads. */
export const RUNNER_FILES: readonly string[] = (BUNDLED ? RUNNER_ENTRIES : [
  ...RUNNER_ENTRIES,
  "lib/pools/worker/runner_loop.ts",
  "lib/pools/worker/immediate.ts",
  "lib/pools/worker/reply_ring.ts",
  "lib/pools/call_task.ts",
  "lib/pools/protocol.ts",
  "lib/pools/console_to_stderr.ts",
  "lib/pools/empty_stdin.ts",
])
  .map((file) => filePath(ownFileUrl(file)));
