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

/** `text` percent-decoded (`+` as a space in a query), or as it is where it does not decode. */
function decoded(text: string, plusIsSpace = false): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replaceAll("+", " ") : text);
  } catch {
    return text;
  }
}

/**
 * `url`'s query split into its `name=value` pairs, with what comes before (through the `?`) and
 * after it (a `#fragment`); undefined for a URL without a query.
 */
function queryOf(url: string): { before: string; pairs: string[]; after: string } | undefined {
  const start = url.indexOf("?");
  if (start < 0) return undefined;
  const hash = url.indexOf("#", start);
  const end = hash < 0 ? url.length : hash;
  return {
    before: url.slice(0, start + 1),
    pairs: url.slice(start + 1, end).split("&"),
    after: url.slice(end),
  };
}

/** Where a pair's value starts, when its name looks secret; -1 otherwise. */
function secretValueAt(pair: string): number {
  const at = pair.indexOf("=");
  if (at < 0) return -1;
  const name = decoded(pair.slice(0, at), true);
  return SECRET_QUERY_NAME.test(name) || SECRET_NAME.test(name) ? at + 1 : -1;
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
  const query = queryOf(url);
  if (!query) return url;
  const pairs = query.pairs.map((pair) => {
    const at = secretValueAt(pair);
    return at < 0 ? pair : `${pair.slice(0, at)}${REDACTED}`;
  });
  const shown = `${query.before}${pairs.join("&")}${query.after}`;
  return shown === url ? url : shown;
}

/** The values of `url`'s secret-looking query parameters, as written and decoded. */
function querySecrets(url: string): string[] {
  const values: string[] = [];
  for (const pair of queryOf(url)?.pairs ?? []) {
    const at = secretValueAt(pair);
    // A short value would hide every place the same few characters appear in a message.
    if (at < 0 || pair.length - at < 4) continue;
    values.push(pair.slice(at), decoded(pair.slice(at), true));
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
  if (password !== "") secrets.push(password, decoded(password));
  return [...new Set(secrets)];
}
