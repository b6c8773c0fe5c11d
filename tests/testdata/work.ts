// Compute functions for the tests: each behaves in one way the pool must handle.
import process from "node:process";

export function add(a: number, b: number): number {
  return a + b;
}

export default function hello(name: string): string {
  return `hello ${name}`;
}

export function throws(): never {
  throw new RangeError("this job always fails");
}

export function context(_arg: unknown, context: { output: string; job: string }) {
  return context;
}

/** Never finishes; first says it started by connecting to `port` on loopback, if given. */
export async function hangs(port?: unknown): Promise<never> {
  if (typeof port === "number") await started(port); // not the context of a call with no args
  return new Promise(() => {});
}

/** A busy loop that never yields, after saying it started (as {@linkcode hangs}). */
export async function spinsAfter(port: number): Promise<never> {
  await started(port);
  for (;;) { /* spin */ }
}

async function started(port: number): Promise<void> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  connection.close();
}

/** An error thrown outside the call: the Worker itself dies while the job is pending. */
export function dies(): Promise<never> {
  setTimeout(() => {
    throw new Error("uncaught in a timer");
  }, 0);
  return new Promise(() => {});
}

export function notJson(): unknown {
  return () => 1;
}

export const notAFunction = 42;

/** A busy loop that never yields: only killing its thread's process stops it. */
export function spins(): never {
  for (;;) { /* spin */ }
}

/** Ends its runtime with an exit code, as careless code does. */
export function exits(code: number): never {
  Deno.exit(code);
}

/** Ends its thread through node's `process.exit`. */
export function exitsThroughProcess(code: number): never {
  process.exit(code);
}

/** Ends its thread the web way, as a Worker may: `close()`. */
export function closes(): Promise<never> {
  globalThis.close();
  return new Promise(() => {});
}

/** Allocates until the heap is exhausted. */
export function hogsMemory(): number {
  const hoard: number[][] = [];
  for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i));
}

/** Reads a file: allowed only inside the job's rights. */
export function readsFile(path: string): Promise<string> {
  return Deno.readTextFile(path);
}

/** Connects to a TCP port: allowed only with net rights. */
export async function connects(port: number): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  connection.close();
  return "connected";
}

/** Logs to the console (which must not disturb a host's channel), then returns its pid. */
export function logsAndPid(): number {
  console.log("a line from the task");
  return Deno.pid;
}

/** Connects to `port` on loopback and returns the first byte it receives there. */
export async function awaitsByte(port: number): Promise<number> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const byte = new Uint8Array(1);
    if ((await connection.read(byte)) !== 1) throw new Error("the connection closed");
    return byte[0]!;
  } finally {
    connection.close();
  }
}

/** `n` bytes counting up from 0 (mod 256): a binary result for `to:`. */
export function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % 256);
}

/** `n` letters: over a reply ring's room when `n` is large. */
export function letters(n: number): string {
  return "ab".repeat(n / 2);
}

/**
 * Says it is here (a file `<me>.here` in the output), then waits until `<other>` is too: two
 * jobs that each wait for the other end only if they run at the same time.
 */
export async function meets(
  me: string,
  other: string,
  context: { output: string },
): Promise<string> {
  await Deno.writeTextFile(`${context.output}/${me}.here`, "");
  for (;;) {
    try {
      await Deno.lstat(`${context.output}/${other}.here`);
      return `${me} met ${other}`;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** A result whose JSON would lose what it holds: a Map is written `{}`. */
export function wordCounts(): unknown {
  return { words: new Map([["a", 2], ["b", 1]]), empty: {} };
}

/** A result JSON cannot write. */
export function huge(): bigint {
  return 10n ** 30n;
}

/** What the task reads on stdin: its first read, as text, or null at its end. */
export async function readsStdin(): Promise<string | null> {
  const buffer = new Uint8Array(256);
  const n = await Deno.stdin.read(buffer);
  return n === null ? null : new TextDecoder().decode(buffer.subarray(0, n));
}

/** A function, as a task that forgot to call what it returns. */
export function curried(): unknown {
  return (n: number) => n + 1;
}

/** A result that refers to itself. */
export function circular(): unknown {
  const node: Record<string, unknown> = { name: "loop" };
  node.self = node;
  return node;
}

/** Arrays `levels` deep around a string full of brackets and escaped quotes. */
function nested(levels: number): unknown {
  let value: unknown = '[[{"\\"[{';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** The values of the variables `names` (null where unset, or not granted and ignored). */
export function readsEnv(names: string[]): (string | null)[] {
  return names.map((name) => Deno.env.get(name) ?? null);
}

/** A result nested deeper than taskpool carries (a structured clone would overflow the stack). */
export function tooDeep(): unknown {
  return nested(5000);
}

/** A result nested as deep as taskpool carries; the brackets in its string do not count. */
export function deepEnough(): unknown {
  return nested(1000);
}

/** An empty object, and text that looks like one: results JSON writes as they are. */
export function emptyLooking(): unknown {
  return { nothing: {}, text: "{}" };
}

/** Rejects with a plain object, as some libraries do. */
export function rejectsWithObject(): Promise<never> {
  return Promise.reject({ code: 42, reason: "quota" });
}

/** Returns a promise that nothing will ever settle. */
export function neverSettles(): Promise<never> {
  return new Promise(() => {});
}

/** An async generator function: its result is a generator, which JSON writes as `{}`. */
export async function* numbers(): AsyncGenerator<number> {
  yield 1;
}

/** A result whose every property read throws, `then` included. */
export function hostile(): unknown {
  return new Proxy({}, {
    get() {
      throw new Error("a trap that throws");
    },
  });
}

/** Throws with a colour and a second line, as a program's error output may have. */
export function throwsColours(): never {
  throw new Error("\x1b[31mred\x1b[0m\nsecond line \x1b]0;title\x07");
}
