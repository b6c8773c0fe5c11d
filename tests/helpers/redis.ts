/**
 * A real redis-server (Debian's package) for the tests, on a free loopback port, with nothing
 * saved to disk; and taskpool workers as real processes.
 */
import { MAIN } from "./cli.ts";

/** A running redis-server. */
export interface TestRedis extends AsyncDisposable {
  url: string;
  port: number;
  /** Runs redis-cli against it; resolves with its stdout. */
  cli(...args: string[]): Promise<string>;
  /** Kills it (SIGKILL) and starts a new, empty one on the same port. */
  restartEmpty(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

function spawnServer(port: number): Deno.ChildProcess {
  return new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function untilAnswers(port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { stdout } = await new Deno.Command("redis-cli", {
      args: ["-p", String(port), "ping"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (new TextDecoder().decode(stdout).trim() === "PONG") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on ${port} did not answer`);
}

/** Starts redis-server on a free port and waits until it answers. */
export async function startRedis(): Promise<TestRedis> {
  const port = freePort();
  let server = spawnServer(port);
  await untilAnswers(port);
  const cli = async (...args: string[]) => {
    const { stdout } = await new Deno.Command("redis-cli", {
      args: ["-p", String(port), ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    cli,
    async restartEmpty() {
      server.kill("SIGKILL");
      await server.status;
      server = spawnServer(port);
      await untilAnswers(port);
    },
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await server.status;
    },
  };
}

/** A worker process and what it printed. */
export interface TestWorker extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** `NAME@HOST:PID`, once it takes jobs. */
  label: string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Sends `signal`; resolves with its exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Starts `taskpool worker` and waits until it takes jobs. */
export async function startWorker(
  redis: string,
  options: { cwd: string; args?: string[]; env?: Record<string, string> },
): Promise<TestWorker> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "worker", "--redis", redis, ...options.args ?? []],
    cwd: options.cwd,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += value;
    }
  })();
  let label: string | undefined;
  while (label === undefined) {
    label = /taskpool worker (\S+): taking jobs/.exec(text)?.[1];
    if (label) break;
    const status = await Promise.race([
      process.status,
      new Promise((resolve) => setTimeout(resolve, 20, undefined)),
    ]);
    if (status !== undefined) throw new Error(`the worker ended early:\n${text}`);
  }
  let stopped: Promise<number> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    if (!stopped) {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      stopped = process.status.then(async (status) => {
        await reading;
        return status.code;
      });
    }
    return stopped;
  };
  return {
    process,
    label,
    stderr: () => text,
    stop,
    [Symbol.asyncDispose]: async () => void await stop("SIGKILL"),
  };
}
