/**
 * Running a command again in a child Deno with only the permissions its plan needs. The first
 * process (the launcher: it may read, read the environment and start Deno) reads and checks the
 * job file, works out the grants, and starts the same command under them; the child does the
 * work. The launcher passes on signals and ends with the child's exit code.
 *
 * The child runs in its own session, so a Ctrl-C at the terminal reaches it once, through the
 * launcher, not twice. Its stdin is a pipe from the launcher: it carries a job file read from
 * stdin, and otherwise stays open as a lifeline, so that a child whose launcher was killed
 * (SIGKILL, which cannot be passed on) cancels its run as if it got SIGTERM.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { BUNDLED, ownFileUrl } from "../util/own_files.ts";
import { grantFlags, type Grants } from "./grant_flags.ts";
import { signalEchoFilter } from "../cli/signal_echo.ts";

/** The environment variable that tells the child it is one: `lifeline` or `stdin`. */
export const SANDBOXED_VARIABLE = "TASKPOOL_SANDBOXED";

/** V8 flags of the child: a small young generation cuts pauses with many transfers. */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=4";

/** Worker options with permissions, for compute jobs with `isolation: thread`. */
const UNSTABLE_FLAGS = ["--unstable-worker-options"];

/** What to run again, and under which grants. */
export interface RelaunchRequest {
  /** The command line after the script: `run jobs.yaml --json`. */
  argv: string[];
  grants: Grants;
  /** The job file's text, when the launcher read it from stdin. */
  stdinText?: string | undefined;
}

/**
 * Whether this process should relaunch its work: it is not the child already, is not a
 * `deno compile` executable (which takes no Deno flags), and may start Deno. Otherwise (someone
 * ran main.ts with flags of their own) it runs in-process with what it was given.
 */
export function mayRelaunch(): boolean {
  if (sandboxedAs() !== undefined || Deno.build.standalone) return false;
  return Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state === "granted";
}

/** How this process was started as a child, or undefined when it was not. */
export function sandboxedAs(): "lifeline" | "stdin" | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(SANDBOXED_VARIABLE);
  } catch {
    return undefined; // not allowed to read the environment: not started by a launcher
  }
  return value === "lifeline" || value === "stdin" ? value : undefined;
}

/** Signals passed on to the child; a hang-up becomes SIGTERM (it ends the run the same way). */
const FORWARDED = { SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGTERM" } as const;

/** Signal numbers on Linux, for the exit code of a child ended by one. */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGTERM: 15,
  SIGABRT: 6,
};

/**
 * Runs `request.argv` in a child Deno with `request.grants`; resolves with its exit code.
 *
 * @throws {RangeError} when a grant cannot be written as a flag (a path with a comma)
 */
export async function relaunch(request: RelaunchRequest): Promise<number> {
  const script = fileURLToPath(Deno.mainModule);
  const config = BUNDLED ? [] : ["--config", fileURLToPath(ownFileUrl("deno.json"))];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...config,
      V8_FLAGS,
      ...UNSTABLE_FLAGS,
      ...grantFlags(request.grants),
      script,
      ...request.argv,
    ],
    env: { [SANDBOXED_VARIABLE]: request.stdinText === undefined ? "lifeline" : "stdin" },
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
    detached: true,
  }).spawn();
  const isEcho = signalEchoFilter();
  const forwarders = Object.entries(FORWARDED).map(([received, sent]) => {
    const handler = () => {
      if (isEcho(received as Deno.Signal)) return; // `deno task` passing on a Ctrl-C we got
      try {
        child.kill(sent);
      } catch { /* it has just ended */ }
    };
    Deno.addSignalListener(received as Deno.Signal, handler);
    return () => Deno.removeSignalListener(received as Deno.Signal, handler);
  });
  const writer = child.stdin.getWriter();
  try {
    if (request.stdinText !== undefined) {
      await writer.write(new TextEncoder().encode(request.stdinText)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const status = await child.status;
    if (status.signal === null) return status.code;
    return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  } finally {
    for (const remove of forwarders) remove();
    await writer.close().catch(() => {});
  }
}

/**
 * In the child: calls `onLost` when the launcher's end of stdin closes (the launcher died).
 * Does nothing when stdin carried the job file.
 */
export function watchLifeline(onLost: () => void): void {
  if (sandboxedAs() !== "lifeline") return;
  (async () => {
    const buffer = new Uint8Array(64);
    try {
      while (await Deno.stdin.read(buffer) !== null) { /* the launcher never writes */ }
    } catch { /* closed */ }
    onLost();
  })();
}
