/**
 * Streaming checksums of a download that needs them (a checksum to verify, or `record_sha256`):
 * SHA-256 always (it goes into the report and the state), SHA-512 only when the job asks to
 * verify one. `node:crypto` is loaded by the first download that needs it: most runs hash nothing,
 * and loading it costs a process some 40 ms.
 *
 * @module
 */
import type { Hash } from "node:crypto";

/** The hex digests of what was hashed. */
export interface DigestResult {
  sha256: string;
  sha512: string | undefined;
}

let crypto: Promise<typeof import("node:crypto")> | undefined;

/**
 * New {@linkcode Digests}: SHA-256, and SHA-512 too with `sha512`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startDigests } from "./digests.ts";
 * const digests = await startDigests({ sha512: false });
 * digests.update(new TextEncoder().encode("abc"));
 * assert(digests.digest().sha256.startsWith("ba7816bf"));
 * ```
 */
export async function startDigests(options: { sha512: boolean }): Promise<Digests> {
  const { createHash } = await (crypto ??= import("node:crypto"));
  return new Digests(createHash("sha256"), options.sha512 ? createHash("sha512") : undefined);
}

/** Hashes chunks as they pass (see {@linkcode startDigests}). */
export class Digests {
  readonly #sha256: Hash;
  readonly #sha512: Hash | undefined;

  constructor(sha256: Hash, sha512: Hash | undefined) {
    this.#sha256 = sha256;
    this.#sha512 = sha512;
  }

  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#sha512?.update(chunk);
  }

  digest(): DigestResult {
    return { sha256: this.#sha256.digest("hex"), sha512: this.#sha512?.digest("hex") };
  }

  /** Feeds the whole of a file (the kept part of a resumed download, or a file on disk). */
  async updateFromFile(path: string, signal?: AbortSignal): Promise<number> {
    using file = await Deno.open(path, { read: true });
    const buffer = new Uint8Array(256 * 1024);
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const n = await file.read(buffer);
      if (n === null) return total;
      this.update(buffer.subarray(0, n));
      total += n;
    }
  }
}
