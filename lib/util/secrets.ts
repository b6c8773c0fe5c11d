/**
 * Keeping secrets out of reports, logs and messages: header values that look like
 * credentials, and passwords in URLs.
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
 * A URL with its password (and user) hidden.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrl } from "./secrets.ts";
 * assert(redactUrl("https://me:pw@host/x") === "https://***:***@host/x");
 * assert(redactUrl("https://host/x") === "https://host/x");
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = REDACTED;
    if (parsed.password) parsed.password = REDACTED;
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * The credentials in a URL (its password, raw and decoded), to redact from any text that may
 * quote the URL; none for a URL without a password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlSecrets } from "./secrets.ts";
 * assert.deepEqual(urlSecrets("http://me:s3cr%40t@host/"), ["s3cr%40t", "s3cr@t"]);
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
  if (password === "") return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // kept as it is
  }
  return [...new Set([password, decoded])];
}
