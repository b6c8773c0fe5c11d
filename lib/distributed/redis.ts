/**
 * Connections to Redis for distributed runs: one ioredis client per use (BullMQ wants its own
 * for each queue, worker and event reader), TLS for `rediss://`, and the URL's password never
 * shown. ioredis reconnects for ever and silently, so each connection reports its errors, once
 * per kind of error, with the password redacted.
 *
 * @module
 */
import { Redis } from "ioredis";
import { redactText, redactUrl, urlSecrets } from "../util/secrets.ts";
import { UsageError } from "../errors.ts";
import { readEnv } from "../util/env.ts";
export { checkRedisUrl, redisHost } from "./redis_url.ts";

/** The key prefix of everything taskpool keeps in Redis (BullMQ's queues included). */
export const PREFIX = "taskpool";

/** The queue of each pool: downloads on `io`, compute and commands on `cpu`. */
export const QUEUES = { io: "io", cpu: "cpu" } as const;

/** The channel a coordinator announces cancelled jobs on (their BullMQ job ids). */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;

/**
 * The channel workers say on which jobs they started: `WORKER\nID\nID...`, the jobs of a moment
 * in one message.
 */
export const STARTED_CHANNEL = `${PREFIX}:starting`;

/**
 * The channel workers announce each outcome on, once Redis has recorded it: `ID\nOUTCOME` (the
 * outcome as JSON). A coordinator that misses one finds the outcome by asking for the job.
 */
export const DONE_CHANNEL = `${PREFIX}:done`;

/** Options for {@linkcode connectRedis}. */
export interface ConnectOptions {
  /** Told of connection errors (redacted), once per message until the connection works again. */
  onError?: (message: string) => void;
  /** Fail a command after this long when Redis is unreachable, instead of waiting. @default wait */
  failFast?: boolean;
}

/** A new ioredis client for `url`, as BullMQ wants it (`maxRetriesPerRequest: null`). */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const secrets = urlSecrets(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
    ...(url.startsWith("rediss:") ? { tls: tlsOptions() } : {}),
  });
  let said: string | undefined;
  redis.on("error", (error: Error) => {
    const message = redactText(error.message, secrets);
    if (message !== said) options.onError?.(message);
    said = message;
  });
  redis.on("ready", () => said = undefined);
  return redis;
}

/**
 * TLS for `rediss://`: the system's authorities, and the one `DENO_CERT` names (a private CA, as
 * for downloads).
 */
function tlsOptions(): { ca?: string[] } {
  const path = readEnv("DENO_CERT");
  if (!path) return {};
  try {
    return { ca: [Deno.readTextFileSync(path)] };
  } catch (error) {
    throw new UsageError(`DENO_CERT: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Redis cannot be reached: a run may be tried again later (exit 75). */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
  readonly code = "UNAVAILABLE";
}

/**
 * Resolves once `redis` answers; a refused password is a usage error (exit 2), and a Redis that
 * does not answer within `timeoutMs` is unavailable (exit 75), both naming the URL redacted.
 */
export async function whenReachable(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  const shown = showRedisUrl(url);
  const secrets = urlSecrets(url);
  const { promise: failed, reject } = Promise.withResolvers<never>();
  const refused = (error: Error) =>
    /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(error.message)
      ? new UsageError(`Redis at ${shown} refused the login: ${redactText(error.message, secrets)}`)
      : undefined;
  const onError = (error: Error) => {
    const usage = refused(error);
    if (usage) reject(usage);
  };
  redis.on("error", onError);
  const timer = setTimeout(() => {
    reject(
      new RedisUnavailableError(`Redis at ${shown} did not answer within ${timeoutMs / 1000}s`),
    );
  }, timeoutMs);
  try {
    await Promise.race([
      redis.ping().catch((error: Error) => {
        throw refused(error) ?? new RedisUnavailableError(
          `Redis at ${shown} failed: ${redactText(error.message, secrets)}`,
        );
      }),
      failed,
    ]);
  } finally {
    clearTimeout(timer);
    redis.off("error", onError);
  }
}

/** A Redis URL as it may be shown: the password as `***`. */
export function showRedisUrl(url: string): string {
  return redactUrl(url);
}
