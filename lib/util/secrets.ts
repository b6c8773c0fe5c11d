/**
 * Keeping secrets out of reports, logs and messages: header values that look like
 * credentials, and in URLs, passwords and the values of query parameters that look like them (a
 * presigned URL's signature, an API key).
 *
 * @module
 */

/** What a redacted value is replaced with. */
export const REDACTED = "***";

const SECRET_NAME =
  /^(authorization|proxy-authorization|cookie)$|token|secret|passw|api[-_]?key|auth|session|credential|signature|private/i;

/**
 * Whether a header's value must never be shown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretHeader } from "./secrets.ts";
 * assert(isSecretHeader("Authorization") && isSecretHeader("X-Api-Key"));
 * assert(!isSecretHeader("Accept"));
 * ```
 */
export function isSecretHeader(name: string, secretNames: readonly string[] = []): boolean {
  return SECRET_NAME.test(name) || secretNames.includes(name.toLowerCase());
}

/**
 * Headers as they may be shown: secret-looking values replaced by `***`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactHeaders } from "./secrets.ts";
 * const shown = redactHeaders({ Authorization: "Bearer abc", Accept: "*\/*" });
 * assert(shown.Authorization === "***" && shown.Accept === "*\/*");
 * ```
 */
export function redactHeaders(
  headers: Record<string, string>,
  secretNames: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map((
      [name, value],
    ) => [name, isSecretHeader(name, secretNames) ? REDACTED : value]),
  );
}

/** The secret values among `headers` (and their bearer tokens), longest first. */
export function secretValues(
  headers: Record<string, string>,
  secretNames: readonly string[] = [],
): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!isSecretHeader(name, secretNames) || value.length < 4) continue;
    values.add(value);
    const token = /^\S+\s+(\S{4,})$/.exec(value)?.[1]; // "Bearer abc…", "Basic …"
    if (token) values.add(token);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every occurrence of each secret replaced by `***`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactText } from "./secrets.ts";
 * assert(redactText("echo: s3cret!", ["s3cret"]) === "echo: ***!");
 * ```
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.replaceAll(secret, REDACTED);
  return result;
}

/**
 * Query parameters whose values are credentials: what a secret header may be called, and `key`
 * (Google's API keys) and `sig` (Azure's shared access signatures). Amazon's and Google's
 * presigned URLs (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`,
 * `X-Goog-Signature`) match the header rule.
 */
const SECRET_QUERY_NAME = /^(key|sig)$/i;

/** Whether a query parameter's value must never be shown. */
function isSecretQuery(name: string): boolean {
  return SECRET_QUERY_NAME.test(name) || SECRET_NAME.test(name);
}

/** The name of a query parameter `name=value`, decoded if it can be. */
function queryName(pair: string): string {
  const name = pair.slice(0, pair.indexOf("="));
  try {
    return decodeURIComponent(name.replaceAll("+", " "));
  } catch {
    return name;
  }
}

/**
 * `url`'s query with each secret-looking parameter's value replaced by `***`; the other
 * parameters stay exactly as written. `url` itself when there is nothing to hide.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactQuery } from "./secrets.ts";
 * assert.equal(
 *   redactQuery("https://b.s3.amazonaws.com/f.iso?X-Amz-Expires=60&X-Amz-Signature=ab12#top"),
 *   "https://b.s3.amazonaws.com/f.iso?X-Amz-Expires=60&X-Amz-Signature=***#top",
 * );
 * assert.equal(redactQuery("https://h/x?page=2&q=a+b"), "https://h/x?page=2&q=a+b");
 * ```
 */
export function redactQuery(url: string): string {
  const start = url.indexOf("?");
  if (start < 0) return url;
  const hash = url.indexOf("#", start);
  const end = hash < 0 ? url.length : hash;
  let changed = false;
  const pairs = url.slice(start + 1, end).split("&").map((pair) => {
    if (!pair.includes("=") || !isSecretQuery(queryName(pair))) return pair;
    const shown = `${pair.slice(0, pair.indexOf("="))}=${REDACTED}`;
    changed ||= shown !== pair;
    return shown;
  });
  return changed ? `${url.slice(0, start + 1)}${pairs.join("&")}${url.slice(end)}` : url;
}

/** The values of `url`'s secret-looking query parameters, as written and decoded. */
function querySecrets(url: string): string[] {
  const start = url.indexOf("?");
  if (start < 0) return [];
  const hash = url.indexOf("#", start);
  const values: string[] = [];
  for (const pair of url.slice(start + 1, hash < 0 ? undefined : hash).split("&")) {
    const at = pair.indexOf("=");
    if (at < 0 || !isSecretQuery(queryName(pair))) continue;
    const value = pair.slice(at + 1);
    // A short value would hide every place the same few characters appear in a message.
    if (value.length < 4) continue;
    values.push(value);
    try {
      values.push(decodeURIComponent(value.replaceAll("+", " ")));
    } catch {
      // kept as it is
    }
  }
  return values;
}

/**
 * A URL with its password (and user) hidden, and the values of its secret-looking query
 * parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrl } from "./secrets.ts";
 * assert(redactUrl("https://me:pw@host/x") === "https://***:***@host/x");
 * assert(redactUrl("https://host/x?access_token=abcd&n=1") === "https://host/x?access_token=***&n=1");
 * assert(redactUrl("https://host/x") === "https://host/x");
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return redactQuery(url);
    parsed.username = REDACTED;
    if (parsed.password) parsed.password = REDACTED;
    return redactQuery(parsed.href);
  } catch {
    return url;
  }
}

/**
 * The credentials in a URL (its password, and the values of its secret-looking query parameters
 * of 4 characters or more, each raw and decoded), to redact from any text that may quote the URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlSecrets } from "./secrets.ts";
 * assert.deepEqual(urlSecrets("http://me:s3cr%40t@host/"), ["s3cr%40t", "s3cr@t"]);
 * assert.deepEqual(urlSecrets("http://host/x?sig=a%2Bb%3D%3D&n=12345"), ["a%2Bb%3D%3D", "a+b=="]);
 * assert.deepEqual(urlSecrets("http://host/"), []);
 * ```
 */
export function urlSecrets(url: string): string[] {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return [];
  }
  const secrets = querySecrets(url);
  if (password !== "") {
    secrets.push(password);
    try {
      secrets.push(decodeURIComponent(password));
    } catch {
      // kept as it is
    }
  }
  return [...new Set(secrets)];
}
