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
  /** Kills it (SIGKILL), for good: its port then refuses connections. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** How a test's Redis is reached: TLS files and a password, when it asks for them. */
export interface RedisSecurity {
  tls?: { cert: string; key: string; ca: string };
  password?: string;
}

function serverArgs(port: number, security: RedisSecurity): string[] {
  const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  if (security.tls) {
    const { cert, key, ca } = security.tls;
    args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", cert);
    args.push("--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no");
  } else args.push("--port", String(port));
  if (security.password) args.push("--requirepass", security.password);
  return args;
}

function cliArgs(port: number, security: RedisSecurity): string[] {
  const args = ["-p", String(port)];
  if (security.tls) args.push("--tls", "--cacert", security.tls.ca);
  if (security.password) args.push("--no-auth-warning", "-a", security.password);
  return args;
}

function spawnServer(port: number, security: RedisSecurity = {}): Deno.ChildProcess {
  return new Deno.Command("redis-server", {
    args: serverArgs(port, security),
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function untilAnswers(port: number, security: RedisSecurity = {}): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { stdout } = await new Deno.Command("redis-cli", {
      args: [...cliArgs(port, security), "ping"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (new TextDecoder().decode(stdout).trim() === "PONG") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on ${port} did not answer`);
}

/** Starts redis-server on a free port and waits until it answers. */
export async function startRedis(security: RedisSecurity = {}): Promise<TestRedis> {
  const port = freePort();
  let server = spawnServer(port, security);
  await untilAnswers(port, security);
  const cli = async (...args: string[]) => {
    const { stdout } = await new Deno.Command("redis-cli", {
      args: [...cliArgs(port, security), ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout);
  };
  const stop = async () => {
    try {
      server.kill("SIGKILL");
    } catch { /* stopped already */ }
    await server.status;
  };
  return {
    url: `${security.tls ? "rediss" : "redis"}://${
      security.password ? `:${encodeURIComponent(security.password)}@` : ""
    }127.0.0.1:${port}`,
    port,
    cli,
    async restartEmpty() {
      server.kill("SIGKILL");
      await server.status;
      server = spawnServer(port, security);
      await untilAnswers(port, security);
    },
    stop,
    [Symbol.asyncDispose]: stop,
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
