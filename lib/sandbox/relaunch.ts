/**
 * Running a command again in a child Deno with only the permissions its plan needs. The first
 * process (the launcher: it may read, read the environment and start Deno) reads and checks the
 * job file, works out the grants, and starts the same command under them; the child does the
 * work. The launcher passes on signals and ends with the child's exit code.
 *
 * The child runs in its own session, so a Ctrl-C at the terminal reaches it once, through the
 * launcher, not twice. Its stdin is a pipe from the launcher: it carries one frame first, the
 * command's handoff (for `run`, the checked and expanded plan, so the child reads and parses no
 * job file again), and then stays open as a lifeline, so that a child whose launcher was killed
 * (SIGKILL, which cannot be passed on) cancels its run as if it got SIGTERM.
 *
 * @module
 */
import { BUNDLED, filePath, ownFileUrl } from "../util/own_files.ts";
import { isExecutable } from "../util/paths.ts";
import { grantFlags, type Grants } from "./grant_flags.ts";
import { signalEchoFilter } from "../cli/signal_echo.ts";
import type { FrameSource } from "../pools/frames.ts";
import { jsonFrame } from "../pools/json_frame.ts";

/** The environment variable that tells the child it is one. */
export const SANDBOXED_VARIABLE = "TASKPOOL_SANDBOXED";

/**
 * The environment variable that gives the child the Worker host its command line started last
 * time, which it starts at once (lib/pools/worker/early_host.ts).
 */
export const EARLY_HOST_VARIABLE = "TASKPOOL_EARLY_HOST";

/**
 * V8 flags of the child: a small young generation cuts pauses with many transfers; at that size
 * from the start, loading taskpool's modules needs no collection.
 */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=4,--min-semi-space-size=4";

/**
 * The child of a run of at least this many jobs grows its heap by half at a time, not up to
 * fourfold as V8 does for a quick-growing heap: 100,000 tiny jobs then peak at some 210 MB rather
 * than 310-380 MB. Not for smaller runs: V8 keys its code cache with such flags, and a child whose
 * flags differ from the launcher's compiles taskpool's modules anew (some 20 ms a run).
 */
export const MANY_JOBS = 10_000;

const MANY_JOBS_V8_FLAGS = `${V8_FLAGS},--heap-growing-percent=50`;

/**
 * Worker options with permissions, for compute jobs with `isolation: thread`; and taskpool's own
 * modules loaded as they are imported, not all found before the first runs (some 10 ms of a
 * start), as deno.json asks for source runs: the child may read taskpool's folder for it.
 */
const UNSTABLE_FLAGS = ["--unstable-worker-options", "--unstable-lazy-dynamic-imports"];

/** What to run again, and under which grants. */
export interface RelaunchRequest {
  /** The command line after the script: `run jobs.yaml --json`. */
  argv: string[];
  grants: Grants;
  /**
   * What the command hands its child (see `Prepared.handoff`), sent as a frame on stdin: asked
   * for once the child is started, so that making it overlaps the child's own start.
   */
  handoff?: () => unknown;
  /** How many jobs the child will run (see {@linkcode MANY_JOBS}). @default a few */
  jobs?: number;
  /** The kinds of the jobs the child will run, sent with the handoff. @default every kind */
  kinds?: readonly string[];
}

/** What the child receives from its launcher (see {@linkcode receiveFromLauncher}). */
export interface Received {
  /** What the command's preparation handed over; undefined for none. */
  handoff: Promise<unknown>;
  /** The kinds of the jobs it will run; undefined for every kind. */
  kinds: Promise<readonly string[] | undefined>;
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
export function sandboxedAs(): "child" | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get(SANDBOXED_VARIABLE);
  } catch {
    return undefined; // not allowed to read the environment: not started by a launcher
  }
  return value === "child" ? value : undefined;
}

/**
 * A command line that may start its child early: its key in the launch records, and the child
 * started with the grants it had last time, if it had any. The child boots while the launcher
 * reads the job file, and waits for the handoff, running nothing before it; the launcher hands
 * over to it only when the grants and the environment are still the same.
 */
export interface EarlyStart {
  /** The command line's key in the launch records. */
  key: string;
  /** The grant flags remembered for it, as they were read. */
  known?: string[];
  child?: EarlyChild;
  /** The Worker host its child started last time, as the child wrote it down. */
  host?: string;
}

/** A child started before the launcher has worked out its grants. */
export interface EarlyChild {
  /** The grant flags it was started with. */
  flags: string[];
  /** The environment it inherited. */
  environment: Record<string, string>;
  /** The child, for the run: {@linkcode EarlyChild.cancel} no longer touches it. */
  take(): Deno.ChildProcess;
  /** Kills it, unless it was taken: its grants are not the run's, or no child is wanted. */
  cancel(): void;
  /** Settles once it has ended. */
  ended(): Promise<void>;
}

/**
 * The launch records, in the launcher's own web storage (Deno keeps it per main module, and it
 * needs no permission): the grant flags of the latest command lines, each in an item of its own
 * named by a digest of the folder, the script and the command line ({@linkcode launchKey}), so
 * that no argument is stored as it was typed, and launchers that run at once never write over
 * each other's records.
 */
const LAUNCH_PREFIX = "taskpool.launch.";

/** The single list of records that earlier versions kept: removed when a record is written. */
const OLD_LAUNCHES_KEY = "taskpool.launches";

/** The command lines remembered; the record written longest ago is forgotten first. */
const MOST_LAUNCHES = 32;

/** Grants longer than this (a plan with thousands of hosts) are not remembered. */
const MOST_FLAG_CHARACTERS = 64 * 1024;

/**
 * The Worker host records: the host the child of a command line started (its flags and size,
 * written by the child, lib/pools/worker/early_host.ts), in an item of their own per command line
 * ({@linkcode launchKey}), read by the launcher for the next child.
 */
export const HOST_PREFIX = "taskpool.host.";

/** The Worker host record of the command line `key`, as text, if there is one. */
function readHostRecord(key: string): string | undefined {
  try {
    return localStorage.getItem(HOST_PREFIX + key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** One command line's record: its grant flags, and when it was last written (ms). */
interface Launch {
  flags: string[];
  at: number;
}

/** The record of the command line `key`, if there is a usable one. */
function readLaunch(key: string): Launch | undefined {
  try {
    const launch = JSON.parse(localStorage.getItem(LAUNCH_PREFIX + key) ?? "null");
    const usable = Array.isArray(launch?.flags) &&
      launch.flags.every((flag: unknown) => typeof flag === "string") &&
      typeof launch.at === "number";
    return usable ? launch : undefined;
  } catch {
    return undefined; // no storage, or not ours to read
  }
}

/**
 * The key of a command line in the launch records: a 64-bit FNV-1a digest of the folder, the
 * script and the arguments, with any password in a URL left out before it is taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { launchKey } from "./relaunch.ts";
 * const key = launchKey(["run", "jobs.yaml", "--redis", "redis://:pw@host:6379"]);
 * assert.match(key, /^[0-9a-f]{16}$/);
 * assert.equal(key, launchKey(["run", "jobs.yaml", "--redis", "redis://:other@host:6379"]));
 * assert.notEqual(key, launchKey(["run", "other.yaml", "--redis", "redis://:pw@host:6379"]));
 * ```
 */
export function launchKey(argv: string[]): string {
  const text = JSON.stringify([Deno.cwd(), Deno.mainModule, ...argv.map(withoutUserinfo)]);
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, "0");
}

/** `text` with the user and password of any URL in it left out. */
function withoutUserinfo(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]*@/g, "$1");
}

/**
 * Starts the child of `argv` at once, with the grants this command line had the last time it was
 * run here, when it has them remembered.
 */
export function startEarly(argv: string[]): EarlyStart {
  const key = launchKey(argv);
  const flags = readLaunch(key)?.flags;
  if (flags === undefined) return { key };
  const host = readHostRecord(key);
  let environment: Record<string, string>;
  let child: Deno.ChildProcess;
  try {
    // Compared at the handoff; a launcher that may not read all of it starts no child early.
    environment = Deno.env.toObject();
    child = spawnChild(flags, argv, V8_FLAGS, host);
  } catch {
    return { key, known: flags, ...(host ? { host } : {}) };
  }
  // Never signalled once it has ended or been taken: its pid may be another process's by then.
  let done = false;
  child.status.then(() => done = true, () => done = true);
  const early: EarlyChild = {
    flags,
    environment,
    take: () => {
      done = true;
      return child;
    },
    cancel: () => {
      if (done) return;
      done = true;
      try {
        child.kill("SIGKILL");
      } catch { /* it has ended */ }
    },
    ended: () => child.status.then(() => {}, () => {}),
  };
  return { key, known: flags, child: early, ...(host ? { host } : {}) };
}

/**
 * Remembers the grant flags of the command line `key`, for the next early start, and forgets the
 * records written longest ago beyond {@linkcode MOST_LAUNCHES}.
 */
function remember({ key, known }: EarlyStart, flags: string[]): void {
  if (known && sameList(known, flags)) return;
  if (flags.reduce((size, flag) => size + flag.length, 0) > MOST_FLAG_CHARACTERS) return;
  try {
    const launch: Launch = { flags, at: Date.now() };
    localStorage.setItem(LAUNCH_PREFIX + key, JSON.stringify(launch));
    localStorage.removeItem(OLD_LAUNCHES_KEY);
    const records: [name: string, at: number][] = [];
    for (let index = 0; index < localStorage.length; index++) {
      const name = localStorage.key(index);
      if (name?.startsWith(LAUNCH_PREFIX)) {
        records.push([name, readLaunch(name.slice(LAUNCH_PREFIX.length))?.at ?? 0]);
      }
    }
    records.sort((a, b) => b[1] - a[1]);
    for (const [name] of records.slice(MOST_LAUNCHES)) {
      localStorage.removeItem(name);
      // Its Worker host record, if its child wrote one, goes with it.
      localStorage.removeItem(HOST_PREFIX + name.slice(LAUNCH_PREFIX.length));
    }
  } catch { /* no storage: no early start next time */ }
}

function sameEnvironment(environment: Record<string, string>): boolean {
  const now = Deno.env.toObject();
  const names = Object.keys(now);
  return names.length === Object.keys(environment).length &&
    names.every((name) => environment[name] === now[name]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((each, i) => each === b[i]);
}

function spawnChild(
  flags: string[],
  argv: string[],
  v8Flags = V8_FLAGS,
  host = "",
): Deno.ChildProcess {
  const script = filePath(Deno.mainModule);
  // The bundle needs no configuration, and takes none of the folder it is run in.
  const config = BUNDLED ? ["--no-config"] : ["--config", filePath(ownFileUrl("deno.json"))];
  const deno = [
    Deno.execPath(),
    "run",
    "--no-prompt",
    ...config,
    v8Flags,
    ...UNSTABLE_FLAGS,
    ...flags,
    script,
    ...argv,
  ];
  // In a session of its own: through setsid(1), a plain spawn, where it may be run; otherwise
  // `detached`, which forks this whole process first (some 6 ms more).
  const setsid = sessionStarter();
  const [program, ...args] = setsid ? [setsid, "--wait", ...deno] : deno;
  return new Deno.Command(program!, {
    args,
    env: { [SANDBOXED_VARIABLE]: "child", [EARLY_HOST_VARIABLE]: host },
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
    detached: setsid === undefined,
  }).spawn();
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

/** Where util-linux's setsid may live. */
const SETSID_PATHS = ["/usr/bin/setsid", "/bin/setsid"];

/**
 * The setsid program, where there is one this process may run. A child started by a plain spawn
 * is no process group leader, so setsid(1) makes its session and execs Deno in place: the child's
 * pid is Deno's, and signals sent to it reach Deno.
 */
function sessionStarter(): string | undefined {
  return SETSID_PATHS.find((path) =>
    Deno.permissions.querySync({ name: "run", command: path }).state === "granted" &&
    isExecutable(path)
  );
}

/**
 * Runs `request.argv` in a child Deno with `request.grants`; resolves with its exit code. With
 * `early`, the child started early is used if it fits, and the grants are remembered.
 *
 * @throws {RangeError} when a grant cannot be written as a flag (a path with a comma)
 */
export async function relaunch(request: RelaunchRequest, early?: EarlyStart): Promise<number> {
  const started = early?.child;
  const flags = grantFlags(request.grants);
  const many = (request.jobs ?? 0) >= MANY_JOBS;
  let child: Deno.ChildProcess;
  // The same grants, and the same environment: `--env-file` adds to the launcher's as it reads.
  // A run of many jobs starts a child of its own: one started early has the usual V8 flags.
  if (
    started && !many && sameList(started.flags, flags) &&
    sameEnvironment(started.environment)
  ) {
    child = started.take();
  } else {
    started?.cancel();
    await started?.ended();
    // Grants that changed (another output, say) most likely change the Worker host's too: the
    // host started last time is then not worth starting.
    const host = early?.known && sameList(early.known, flags) ? early.host : undefined;
    child = spawnChild(flags, request.argv, many ? MANY_JOBS_V8_FLAGS : V8_FLAGS, host);
  }
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
    await handOver(writer, request);
    if (many && Deno.memoryUsage().rss > HELD_AFTER_HANDOFF) await collectGarbage();
    // While the child works: its grants, for the next run of this command line.
    if (early) remember(early, flags);
    const status = await child.status;
    if (status.signal === null) return status.code;
    return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  } finally {
    for (const remove of forwarders) remove();
    await writer.close().catch(() => {});
  }
}

/**
 * Writes what `request` hands the child to its stdin, as one frame. In a function of its own, so
 * that nothing of it (a plan of a million jobs, its text) is kept while the child runs.
 */
async function handOver(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  request: RelaunchRequest,
): Promise<void> {
  // JSON when it can be (a plan is): the child then reads it with no structured clone, and
  // neither process loads node:v8.
  const message = { handoff: request.handoff?.() ?? null, kinds: request.kinds };
  const frame = jsonFrame(message, { dropUndefined: true }) ??
    (await import("../pools/frames.ts")).encodeFrame(message);
  await writer.write(frame).catch(() => {});
}

/** The resident memory past which a launcher collects its garbage once its plan is handed over. */
const HELD_AFTER_HANDOFF = 256 * 2 ** 20;

/**
 * A full garbage collection, now. A launcher that handed over a plan of many jobs holds the heap
 * it built (1.1 GB for a million downloads) until V8's memory reducer comes to it, some 20 s
 * later, while its child builds its own: together they neared 2 GB. The plan is garbage once
 * handed over; collected, the launcher keeps some 50 MB. `gc` is not a global without a V8 flag
 * on the command line (which would change V8's code-cache key, and cost every run a compile):
 * the flag set now shows it in a new context. node:v8 and node:vm load only here.
 */
async function collectGarbage(): Promise<void> {
  try {
    const [{ setFlagsFromString }, { runInNewContext }] = await Promise.all([
      import("node:v8"),
      import("node:vm"),
    ]);
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
  } catch {
    // Memory returned later, as it was.
  }
}

/**
 * In the child: what the launcher handed over, and the kinds of the jobs it will run, once they
 * come; from then on, `onLost` is called when the launcher's end of stdin closes (the launcher
 * died). When it closes before the handoff has come, `onNone` is called instead, and neither
 * promise settles. Stdin is read with plain reads: the frame is one, and streams or `node:v8`
 * would cost the child's start.
 */
export function receiveFromLauncher(onLost: () => void, onNone: () => void): Received {
  // Taken now: compute tasks on this thread later find Deno.stdin empty (lib/pools/empty_stdin.ts).
  const stdin = Deno.stdin;
  const frame = (async () => {
    let frame: LauncherFrame | undefined;
    try {
      frame = await readFrame(stdin);
    } catch { /* closed at once: the launcher died */ }
    if (frame === undefined) {
      onNone();
      return await new Promise<never>(() => {});
    }
    (async () => {
      const scrap = new Uint8Array(64);
      try {
        while (await stdin.read(scrap) !== null) { /* the launcher sends nothing more */ }
      } catch { /* closed */ }
      onLost();
    })();
    return frame;
  })();
  // Each promise keeps only its part: the handoff (a plan's jobs) is let go once it is taken.
  return {
    handoff: frame.then((frame) => frame.handoff ?? undefined),
    kinds: frame.then((frame) => frame.kinds),
  };
}

/** The frame a launcher writes to its child's stdin. */
interface LauncherFrame {
  handoff: unknown;
  kinds?: readonly string[];
}

/** What stdin is to the child: something to read bytes from, as frames.ts reads them. */
export type Reader = Exclude<FrameSource, ReadableStream<Uint8Array>>;

/** The first byte of a V8 structured clone (lib/pools/frames.ts writes JSON otherwise). */
const V8_VERSION_TAG = 0xff;

/**
 * What the launcher handed over, from the frame it wrote (a 32-bit length, then JSON or a
 * structured clone); undefined when `source` ends first.
 */
export async function readHandoff(source: Reader): Promise<unknown> {
  return (await readFrame(source))?.handoff ?? undefined;
}

/** The launcher's frame, or undefined when `source` ends before all of it. */
async function readFrame(source: Reader): Promise<LauncherFrame | undefined> {
  const head = await readExactly(source, 4);
  const body = head && await readExactly(source, new DataView(head.buffer).getUint32(0));
  if (!body) return undefined;
  return body[0] === V8_VERSION_TAG
    ? (await import("node:v8")).deserialize(body)
    : JSON.parse(new TextDecoder().decode(body));
}

/** `length` bytes of `source`, or undefined when it ends first. */
async function readExactly(source: Reader, length: number): Promise<Uint8Array | undefined> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length;) {
    const n = await source.read(bytes.subarray(at));
    if (n === null) return undefined;
    at += n;
  }
  return bytes;
}
