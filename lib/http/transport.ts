/**
 * The HTTP transport downloads use: taskpool's own {@linkcode HttpClient}, or `fetch` for a URL
 * that goes through a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, which Deno's fetch honours together
 * with `NO_PROXY`). Both give the same {@linkcode HttpResponse}.
 *
 * @module
 */
import { HttpClient, type HttpRequestInit, type HttpResponse } from "./client.ts";
import { StreamBody } from "./stream_body.ts";
import { PROXY_VARIABLES } from "./proxy_variables.ts";
import { readEnv } from "../util/env.ts";

/** Options for {@linkcode HttpTransport}. */
export interface HttpTransportOptions {
  /** Idle connections kept per origin by taskpool's client. @default 64 */
  maxIdlePerOrigin?: number;
  /** Reads an environment variable. @default Deno.env.get, undefined where not permitted */
  env?: (name: string) => string | undefined;
  /** Certificate authorities to trust besides the system's, as PEM text. @default none */
  caCerts?: string[] | undefined;
}

/**
 * GETs a URL directly or through the proxy its scheme names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpTransport } from "./transport.ts";
 * using transport = new HttpTransport({ env: () => undefined });
 * assert(!transport.proxied(new URL("http://example.com/")));
 * ```
 */
export class HttpTransport implements Disposable {
  readonly #direct: HttpClient;
  readonly #proxied: Set<string>;
  readonly #caCerts: string[] | undefined;
  #fetchClient: Deno.HttpClient | undefined;

  constructor(options: HttpTransportOptions = {}) {
    const { maxIdlePerOrigin = 64, env = readEnv, caCerts } = options;
    this.#caCerts = caCerts?.length ? caCerts : undefined;
    this.#direct = new HttpClient({
      maxIdlePerOrigin,
      ...(this.#caCerts ? { caCerts: this.#caCerts } : {}),
    });
    this.#proxied = new Set(
      Object.entries(PROXY_VARIABLES)
        .filter(([, names]) => names.some((name) => env(name)))
        .map(([scheme]) => scheme),
    );
  }

  /** Whether requests to `url` go through fetch, for its proxy. */
  proxied(url: URL): boolean {
    return this.#proxied.has(url.protocol);
  }

  /** GETs `url` without following redirects. */
  get(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    return this.proxied(url) ? this.#fetch(url, init) : this.#direct.get(url, init);
  }

  close(): void {
    this.#direct.close();
    this.#fetchClient?.close();
    this.#fetchClient = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Deno's own fetch, which applies the proxy variables and `NO_PROXY` itself. */
  async #fetch(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
    if (this.#caCerts && !this.#fetchClient) {
      this.#fetchClient = Deno.createHttpClient({ caCerts: this.#caCerts });
    }
    const response = await fetch(url, {
      headers: init.headers,
      signal: init.signal,
      redirect: "manual",
      ...(this.#fetchClient ? { client: this.#fetchClient } : {}),
    });
    const { status, statusText, headers } = response;
    const encoding = headers.get("content-encoding")?.toLowerCase() ?? "identity";
    const declared = headers.get("content-length");
    const length = encoding === "identity" && declared !== null && /^\d+$/.test(declared)
      ? Number(declared)
      : undefined;
    const body = new StreamBody(response.body ?? emptyStream(), length);
    return { status, statusText, headers, body };
  }
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}
