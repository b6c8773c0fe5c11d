/**
 * A worker's connections to Redis: one ioredis client per use (BullMQ wants its own
 * for each queue, worker and event reader), TLS for `rediss://`, and the URL's password never
 * shown. ioredis reconnects for ever and silently, so each connection reports its errors, once
 * per kind of error, with the password redacted.
 *
 * @module
 */
import { Redis } from "ioredis";
import { redactText, urlSecrets } from "../util/secrets.ts";
import { caCertOf, loginRefused, RedisUnavailableError, showRedisUrl } from "./redis_url.ts";
export { checkRedisUrl, redisHost, showRedisUrl } from "./redis_url.ts";

/** Options for {@linkcode connectRedis}. */
export interface ConnectOptions {
  /** Told of connection errors (redacted), once per message until the connection works again. */
  onError?: (message: string) => void;
  /** Fail a command after this long when Redis is unreachable, instead of waiting. @default wait */
  failFast?: boolean;
  /** Send the commands issued in one turn of the event loop in one write. @default false */
  autoPipelining?: boolean;
}

/** A new ioredis client for `url`, as BullMQ wants it (`maxRetriesPerRequest: null`). */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  const secrets = urlSecrets(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
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

/** TLS for `rediss://`: the system's authorities, and the one `DENO_CERT` names. */
function tlsOptions(): { ca?: string[] } {
  const ca = caCertOf();
  return ca ? { ca: [ca] } : {};
}

/**
 * Resolves once `redis` answers; a refused password is a usage error (exit 2), and a Redis that
 * does not answer within `timeoutMs` is unavailable (exit 75), both naming the URL redacted.
 */
export async function whenReachable(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  const shown = showRedisUrl(url);
  const secrets = urlSecrets(url);
  const { promise: failed, reject } = Promise.withResolvers<never>();
  const refused = (error: Error) => loginRefused(error, url);
  let last: string | undefined;
  const onError = (error: Error) => {
    last = redactText(error.message, secrets);
    const usage = refused(error);
    if (usage) reject(usage);
  };
  redis.on("error", onError);
  const timer = setTimeout(() => {
    reject(
      new RedisUnavailableError(
        `Redis at ${shown} did not answer within ${timeoutMs / 1000}s${last ? `: ${last}` : ""}`,
      ),
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
