/**
 * A GET that follows redirects itself, so that it can refuse what a browser
 * would accept: more than `maxRedirects` hops, a loop, a hop to anything but http(s). Secret
 * headers are not sent on to another origin (as curl and browsers do), and credentials in a URL
 * become an `Authorization: Basic` header, as no request line can carry them.
 *
 * @module
 */
import { OutsideGrantsError, RedirectError } from "./errors.ts";
import type { HttpResponse } from "../../lib/http/client.ts";
import type { HttpTransport } from "../../lib/http/transport.ts";
import { isSecretHeader, redactUrl } from "../../lib/util/secrets.ts";

/** The statuses that carry a `Location` to follow. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Options for {@linkcode getFollowing}. */
export interface GetFollowingOptions {
  /** The request headers: owned by the call, which may change them (credentials from the URL). */
  headers: Headers;
  signal: AbortSignal;
  http: HttpTransport;
  /** @default 10 */
  maxRedirects?: number;
  /** Header names (lower case) whose values are secret besides the usual ones. @default none */
  secretHeaders?: readonly string[];
  /**
   * Waits for the host's turn before a request (`per_host_interval`); `first` is the request
   * the job's admission already counted. @default no wait
   */
  turn?: (url: URL, first: boolean) => Promise<void>;
  /** The Authorization a host's login gives (netrc), for a request that has none. */
  credentials?: (url: URL) => string | undefined;
}

/** The final response and how it was reached. */
export interface FollowedResponse {
  response: HttpResponse;
  /** The URL that answered. */
  url: string;
  /** Each redirect target, in order (credentials hidden). */
  redirects: string[];
}

/**
 * GETs `url`, following at most `maxRedirects` redirects.
 *
 * @throws {RedirectError} on a loop, too many hops, a hop to a non-http(s) URL or a missing
 * Location
 */
export async function getFollowing(
  url: string,
  options: GetFollowingOptions,
): Promise<FollowedResponse> {
  const { signal, http, maxRedirects = 10, secretHeaders = [], turn, credentials } = options;
  let { headers } = options;
  let current = withoutCredentials(new URL(url), headers);
  const redirects: string[] = [];
  const seen = new Set([current.href]);
  for (;;) {
    if (credentials && !headers.has("authorization")) {
      const login = credentials(current);
      if (login !== undefined) headers.set("authorization", login);
    }
    await turn?.(current, redirects.length === 0);
    const response = await http.get(current, { headers, signal }).catch((error) => {
      throw error instanceof Deno.errors.NotCapable
        ? outsideGrants(current, url, redirects)
        : error;
    });
    if (!REDIRECT_STATUSES.has(response.status)) {
      return { response, url: current.href, redirects };
    }
    await response.body.cancel();
    const location = response.headers.get("location");
    const from = redactUrl(current.href);
    if (!location) {
      throw new RedirectError(`GET ${from} answered ${response.status} with no Location`);
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new RedirectError(`GET ${from} redirected to an invalid URL: ${location}`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new RedirectError(
        `GET ${from} redirected to ${next.protocol} (only http(s) is followed)`,
      );
    }
    if (next.origin !== current.origin) headers = withoutSecrets(headers, secretHeaders);
    next = withoutCredentials(next, headers);
    if (seen.has(next.href)) {
      const chain = [redactUrl(url), ...redirects, redactUrl(next.href)];
      throw new RedirectError(`redirect loop: ${chain.join(" -> ")}`);
    }
    if (redirects.length >= maxRedirects) {
      throw new RedirectError(`more than ${maxRedirects} redirects from ${redactUrl(url)}`);
    }
    seen.add(next.href);
    redirects.push(redactUrl(next.href));
    current = next;
  }
}

/** The error for a host the run may not reach (see lib/sandbox/grants.ts). */
function outsideGrants(target: URL, url: string, redirects: string[]): OutsideGrantsError {
  const host = target.port ? target.host : target.hostname;
  const how = redirects.length > 0
    ? `GET ${redactUrl(url)} was redirected to ${host}`
    : `GET ${redactUrl(target.href)} reaches ${host}`;
  return new OutsideGrantsError(
    `${how}, which the job file does not name: add it to \`permissions: { net: [${host}] }\` ` +
      `at the top of the job file`,
  );
}

/** `url` without user and password; they move into an Authorization header unless one is set. */
function withoutCredentials(url: URL, headers: Headers): URL {
  if (!url.username && !url.password) return url;
  if (!headers.has("authorization")) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const token = btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));
    headers.set("authorization", `Basic ${token}`);
  }
  const bare = new URL(url);
  bare.username = "";
  bare.password = "";
  return bare;
}

function withoutSecrets(headers: Headers, secretNames: readonly string[]): Headers {
  const kept = new Headers();
  for (const [name, value] of headers) {
    if (!isSecretHeader(name, secretNames)) kept.set(name, value);
  }
  return kept;
}
