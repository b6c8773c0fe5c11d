/**
 * Sending signals to processes and process groups. `Deno.kill` needs the right to run any
 * program, which a run that lists its programs does not have (see lib/sandbox/grants.ts). There,
 * signals go through one long-lived `sh`, whose builtin `kill` sends them: one process for the
 * whole run. Spawning kill(1) for each signal would cost a process per command job and hold the
 * event loop while it ran.
 *
 * @module
 */

import { killOnHardExit } from "../../lib/util/exit_hooks.ts";
import { isExecutable } from "../../lib/util/paths.ts";

/** Where `kill` (procps or util-linux) may live. */
const KILL_PATHS = ["/usr/bin/kill", "/bin/kill"];

/** Where a POSIX shell may live. */
const SHELL_PATHS = ["/bin/sh", "/usr/bin/sh"];

/** Reads `SIGNAL PID` lines; answers each with kill's exit status (0: sent). */
const SIGNALLER_SCRIPT =
  'while read -r sig pid; do kill -s "$sig" -- "$pid" 2>/dev/null; echo $?; done';

let killPath: string | null | undefined;
let shellPath: string | null | undefined;

/** The `kill` program, or null where there is none. */
export function findKill(): string | null {
  if (killPath === undefined) killPath = KILL_PATHS.find(isExecutable) ?? null;
  return killPath;
}

/** The shell that sends signals, or null where there is none. */
export function findShell(): string | null {
  if (shellPath === undefined) shellPath = SHELL_PATHS.find(isExecutable) ?? null;
  return shellPath;
}

let mayKill: boolean | undefined;
let signaller: ShellSignaller | undefined;

/** Whether `Deno.kill` is allowed: only with the right to run any program. */
function denoMayKill(): boolean {
  return mayKill ??= Deno.permissions.querySync({ name: "run" }).state === "granted";
}

/**
 * Sends `signal` to `pid` (a group for a negative pid). Resolves false when there is no such
 * process.
 */
export async function sendSignal(pid: number, signal: Deno.Signal): Promise<boolean> {
  if (denoMayKill()) return sendSignalNow(pid, signal);
  const shell = findShell();
  if (shell !== null && signaller?.alive !== false) {
    signaller ??= new ShellSignaller(shell);
    const sent = await signaller.send(pid, signal);
    if (sent !== undefined) return sent;
  }
  return sendSignalNow(pid, signal);
}

/**
 * Starts the shell that sends signals where `Deno.kill` is not allowed, if it is not running:
 * a run with command jobs signals each group as its leader exits, and the first job then need not
 * wait for the shell to start.
 */
export function startSignaller(): void {
  if (signaller !== undefined || denoMayKill()) return;
  const shell = findShell();
  if (shell !== null) signaller = new ShellSignaller(shell);
}

/**
 * {@linkcode sendSignal}, done before it returns: for the moment taskpool exits at once, when
 * nothing asynchronous will run again. Without `Deno.kill`, it runs the `kill` program.
 */
export function sendSignalNow(pid: number, signal: Deno.Signal): boolean {
  const kill = denoMayKill() ? null : findKill();
  if (kill === null) {
    try {
      Deno.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
  const { success } = new Deno.Command(kill, {
    args: ["-s", signal.replace(/^SIG/, ""), "--", String(pid)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return success;
}

/**
 * One `sh` reading `SIGNAL PID` lines and answering each. It does not keep taskpool alive, and
 * ends when taskpool's end closes its stdin. Its answers are read only while one is awaited, so
 * no read is pending when it is idle.
 */
class ShellSignaller {
  /** False once the shell is gone (its stdin or stdout failed). */
  alive = true;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #answers: PromiseWithResolvers<boolean | undefined>[] = [];
  #text = "";
  #reading = false;

  constructor(shell: string) {
    const child = new Deno.Command(shell, {
      args: ["-c", SIGNALLER_SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    child.unref();
    killOnHardExit(child);
    this.#writer = child.stdin.getWriter();
    // Read directly, not through a piped stream, which would keep a read pending for ever.
    this.#reader = child.stdout.getReader();
  }

  /** Whether the signal was sent; undefined when the shell could not be asked. */
  async send(pid: number, signal: Deno.Signal): Promise<boolean | undefined> {
    const answer = Promise.withResolvers<boolean | undefined>();
    this.#answers.push(answer);
    try {
      await this.#writer.write(encoder.encode(`${signal.replace(/^SIG/, "")} ${pid}\n`));
    } catch {
      this.#fail();
    }
    if (!this.#reading) void this.#readAnswers();
    return await answer.promise;
  }

  async #readAnswers() {
    this.#reading = true;
    try {
      while (this.#answers.length > 0) {
        const { value, done } = await this.#reader.read();
        if (done) return this.#fail();
        this.#text += this.#decoder.decode(value, { stream: true });
        for (let end = this.#text.indexOf("\n"); end >= 0; end = this.#text.indexOf("\n")) {
          const status = this.#text.slice(0, end);
          this.#text = this.#text.slice(end + 1);
          this.#answers.shift()?.resolve(status === "0");
        }
      }
    } catch {
      this.#fail();
    } finally {
      this.#reading = false;
    }
  }

  /** The shell is gone: whoever waits is told to signal another way. */
  #fail() {
    this.alive = false;
    for (const answer of this.#answers.splice(0)) answer.resolve(undefined);
  }
}

const encoder = new TextEncoder();
