/**
 * Sending signals to processes and process groups, and ending the groups taskpool leaves behind
 * if it is killed outright.
 *
 * `Deno.kill` needs the right to run any program, which a run that lists its programs does not
 * have (see lib/sandbox/grants.ts). There, signals go through one long-lived `sh`, whose builtin
 * `kill` sends them: one process for the whole run. Spawning kill(1) for each signal would cost a
 * process per command job and hold the event loop while it ran.
 *
 * The same shell is told of each command's process group while it runs. A command runs in a
 * session of its own, so nothing of taskpool's reaches it when taskpool dies by SIGKILL (the OOM
 * killer, say) or crashes: the shell then sees its stdin close with groups still listed, and ends
 * them as a cancel would (SIGTERM, then SIGKILL after their grace). Otherwise they would outlive
 * the run, and the next run of the same file would start its commands beside them.
 *
 * @module
 */

import { killOnHardExit } from "../../lib/util/exit_hooks.ts";
import { isExecutable } from "../../lib/util/paths.ts";

/** Where `kill` (procps or util-linux) may live. */
const KILL_PATHS = ["/usr/bin/kill", "/bin/kill"];

/** Where a POSIX shell may live. */
const SHELL_PATHS = ["/bin/sh", "/usr/bin/sh"];

/**
 * Reads `SIGNAL PID` lines and answers each with kill's exit status (0: sent); `+ PGID GRACE_MS`
 * and `- PGID` lines, unanswered, list and unlist a command's group. At the end of its input it
 * sends each group still listed SIGTERM, and SIGKILL to any still alive after its grace.
 */
const SIGNALLER_SCRIPT = `
groups=" "
while read -r a b c; do
  case $a in
    +) groups="$groups$b:$c " ;;
    -) case $groups in *" $b:"*) rest=\${groups#*" $b:"}; groups="\${groups%%" $b:"*} \${rest#* }" ;; esac ;;
    *) kill -s "$a" -- "$b" 2>/dev/null; echo $? ;;
  esac
done
[ "$groups" = " " ] && exit 0
for g in $groups; do kill -s TERM -- "-\${g%%:*}" 2>/dev/null; done
waited=0
while :; do
  alive=""
  for g in $groups; do
    kill -s 0 -- "-\${g%%:*}" 2>/dev/null || continue
    if [ "$waited" -ge "\${g#*:}" ]; then kill -s KILL -- "-\${g%%:*}" 2>/dev/null; else alive="$alive $g"; fi
  done
  groups=$alive
  [ -z "$groups" ] && exit 0
  sleep 0.1
  waited=$((waited + 100))
done
`;

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
 * Starts the shell that sends signals and watches the commands' groups, if it is not running: a
 * run with command jobs signals each group as its leader exits, and the first job then need not
 * wait for the shell to start.
 */
export function startSignaller(): void {
  if (signaller !== undefined) return;
  const shell = findShell();
  if (shell !== null) signaller = new ShellSignaller(shell);
}

/**
 * Ends the shell, once its run is over: it closes the shell's input and waits for it to exit.
 * A later run starts another.
 */
export async function stopSignaller(): Promise<void> {
  const stopping = signaller;
  signaller = undefined;
  await stopping?.close();
}

/**
 * Lists a command's process group with the shell, once started ({@linkcode startSignaller}),
 * until {@linkcode unwatchGroup}: should taskpool die before then, the shell ends the group,
 * giving it `graceMs` between SIGTERM and SIGKILL.
 */
export function watchGroup(pgid: number, graceMs: number): void {
  signaller?.tell(`+ ${pgid} ${Math.max(0, Math.round(graceMs))}`);
}

/** Takes a group off the shell's list: taskpool has seen it end. */
export function unwatchGroup(pgid: number): void {
  signaller?.tell(`- ${pgid}`);
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
 * One `sh` reading `SIGNAL PID` lines and answering each, and keeping the list of groups to end
 * (SIGNALLER_SCRIPT). It does not keep taskpool alive, and ends when taskpool's end closes its
 * stdin. Its answers are read only while one is awaited, so no read is pending when it is idle.
 */
class ShellSignaller {
  /** False once the shell is gone (its stdin or stdout failed). */
  alive = true;
  readonly #child: Deno.ChildProcess;
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
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    // Read directly, not through a piped stream, which would keep a read pending for ever.
    this.#reader = child.stdout.getReader();
  }

  /** Closes the shell's input, and resolves once it has exited. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    this.#child.ref(); // its exit is now awaited: the event loop waits for it
    await this.#child.status;
    this.#fail();
  }

  /** Writes a line that gets no answer. */
  tell(line: string): void {
    this.#writer.write(encoder.encode(`${line}\n`)).catch(() => this.#fail());
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
