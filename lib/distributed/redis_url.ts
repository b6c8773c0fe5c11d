/**
 * Redis URLs as `--redis` takes them, checked without loading a Redis client (the launcher of a
 * distributed run needs only this).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { redactUrl } from "../util/secrets.ts";

/**
 * A Redis URL, checked: `redis://` or `rediss://` (TLS), with a host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRedisUrl } from "./redis.ts";
 * assert.equal(checkRedisUrl("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
 * assert.throws(() => checkRedisUrl("http://x"), /--redis/);
 * ```
 * @throws {UsageError} for anything else
 */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL: got "${redactUrl(url)}"`);
  }
  if ((parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || !parsed.hostname) {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL: got "${redactUrl(url)}"`);
  }
  return url;
}

/** `host:port` of a Redis URL, as Deno's `--allow-net` takes it. */
export function redisHost(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || "6379"}`;
}
