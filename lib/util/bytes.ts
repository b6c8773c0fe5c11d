/**
 * Joining byte chunks, and their SHA-256.
 *
 * @module
 */

/**
 * The SHA-256 of `bytes` in hex, by Web Crypto: `node:crypto` would cost a process some 25 ms
 * to load.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./bytes.ts";
 * assert.equal(
 *   await sha256Hex(new TextEncoder().encode("abc")),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * const shared = new Uint8Array(new SharedArrayBuffer(3));
 * shared.set(new TextEncoder().encode("abc"));
 * assert.equal(await sha256Hex(shared), await sha256Hex(new TextEncoder().encode("abc")));
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Web Crypto takes no view of shared memory (a reply ring's): such bytes are copied first.
  const own = bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : bytes.slice();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", own));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The chunks one after another in one new array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./bytes.ts";
 * const joined = concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]);
 * assert(joined.join() === "1,2,3");
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
  return joined;
}
