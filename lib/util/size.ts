/**
 * Byte sizes as job files write them: a whole number of bytes, or a string such as `512KiB`,
 * `10MB`, `4GiB` (binary units KiB/MiB/GiB/TiB; decimal kB/KB/MB/GB/TB; B for bytes).
 *
 * @module
 */

/** The pattern a size string must match (also used by the JSON Schema). */
export const SIZE_PATTERN = "^\\d+(\\.\\d+)?\\s*(B|[kK]B|[kK]iB|MB|MiB|GB|GiB|TB|TiB)$";

const UNIT_BYTES: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  kiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/**
 * Bytes from a job-file size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./size.ts";
 * assert(parseSize("4GiB") === 4 * 2 ** 30);
 * assert(parseSize("1.5 MB") === 1_500_000);
 * assert(parseSize(1024) === 1024);
 * ```
 * @throws {RangeError} when the value is not a size
 */
export function parseSize(value: number | string): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Size must be a whole number of bytes: got ${value}`);
    }
    return value;
  }
  const match = new RegExp(SIZE_PATTERN).exec(value.trim());
  if (!match) throw new RangeError(`Size must look like 512KiB, 10MB or 4GiB: got "${value}"`);
  const amount = Number(value.trim().slice(0, value.trim().length - match[2]!.length).trim());
  return Math.round(amount * UNIT_BYTES[match[2]!]!);
}
