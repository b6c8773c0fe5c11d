/**
 * Redis URLs as `--redis` takes them, checked without loading a Redis client (the launcher of a
 * distributed run needs only this).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { readEnv } from "../util/env.ts";
import { redactText, redactUrl, urlSecrets } from "../util/secrets.ts";

/**
 * A Redis URL, checked: `redis://` or `rediss://` (TLS), with a host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRedisUrl } from "./redis_url.ts";
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

/** A Redis URL as it may be shown: the password as `***`. */
export function showRedisUrl(url: string): string {
  return redactUrl(url);
}

/** Redis cannot be reached: a run may be tried again later (exit 75). */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
  readonly code = "UNAVAILABLE";
}

/** A refused login (exit 2) naming the URL redacted, if `error` is one. */
export function loginRefused(error: Error, url: string): UsageError | undefined {
  if (!/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(error.message)) return undefined;
  const said = redactText(error.message, urlSecrets(url));
  return new UsageError(`Redis at ${showRedisUrl(url)} refused the login: ${said}`);
}

/** The private authority `DENO_CERT` names for `rediss://` (as for downloads), if any. */
export function caCertOf(): string | undefined {
  const path = readEnv("DENO_CERT");
  if (!path) return undefined;
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(`DENO_CERT: cannot read ${path}: ${(error as Error).message}`);
  }
}
