/**
 * The environment variables that send requests through a proxy: read by the transport, and
 * granted to a run so that it may read them.
 *
 * @module
 */

/** The proxy variables, per scheme, upper case first, as curl and Deno read them. */
export const PROXY_VARIABLES = {
  "http:": ["HTTP_PROXY", "http_proxy"],
  "https:": ["HTTPS_PROXY", "https_proxy"],
} as const;
