/**
 * The field schemas job files share: names, durations, sizes, headers, URLs, paths, digests. The
 * job file's schema (`schema.ts`) and each kind's own part (`tasks/<kind>/`) are built from them,
 * so a duration or a size reads and fails the same way everywhere.
 *
 * They are built from the `z` they are handed ({@linkcode schemaFields}): zod itself, which says
 * what is wrong and gives the JSON Schema (`schema.ts`), or the quick checker that a valid file
 * passes without loading zod (`quick_schema.ts`).
 *
 * Messages are phrased to follow a field path: `jobs[0].retries must be ...`.
 *
 * @module
 */
import type { z as Zod } from "zod";
import { DURATION_PATTERN, parseDuration } from "../util/duration.ts";
import { parseSize, SIZE_PATTERN } from "../util/size.ts";
import { parseRate, RATE_PATTERN } from "../util/rate.ts";

/** Job names: what may appear in `name` and `needs`. */
export const JOB_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** HTTP header names (RFC 9110 tokens). */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The control characters a path may not have: all but the tab (NUL has a message of its own). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x01-\x08\x0a-\x1f\x7f-\x9f]/;

/**
 * What is wrong with `path` if it has a control character (one a path may not have), the first
 * named with where it is; else undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { controlCharacterIn } from "./fields.ts";
 * assert.equal(controlCharacterIn("out\tdir"), undefined);
 * assert.match(controlCharacterIn("out\r")!, /character 4 is a carriage return/);
 * ```
 */
export function controlCharacterIn(path: string): string | undefined {
  return CONTROL.test(path) ? controlCharacterMessage(path) : undefined;
}

/**
 * `text` as a JSON string, with DEL and the C1 controls escaped too (JSON leaves them as they
 * are, and a terminal may act on them), for a message that quotes what was found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoted } from "./fields.ts";
 * assert.equal(quoted("a\nb\u009b"), '"a\\nb\\u009b"');
 * ```
 */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(
    /[\x7f-\x9f]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** What is wrong with `path`, whose first control character is named, with where it is. */
function controlCharacterMessage(path: string): string {
  const at = path.search(CONTROL);
  const code = path.charCodeAt(at);
  const what = code === 0x0a
    ? "a newline"
    : code === 0x0d
    ? "a carriage return (Windows line endings?)"
    : code === 0x1b
    ? "an escape"
    : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return `must not contain a control character: character ${at + 1} is ${what}, which would ` +
    "break the lines of the log and the summary";
}

/** The shared fields, and the `z` they were built with, for a kind to build its part from. */
export interface SchemaFields {
  z: typeof Zod;
  /** Job names: what may appear in `name` and `needs`. */
  jobName: Zod.ZodType<string>;
  /** A duration: seconds as a number, or a string like 500ms; in ms once parsed. */
  duration: Zod.ZodType<number, number | string>;
  /** A size: bytes as a number, or a string like 512KiB; in bytes once parsed. */
  size: Zod.ZodType<number, number | string>;
  /** A transfer rate: bytes a second as a number, or a string like 4MiB/s. */
  rate: Zod.ZodType<number, number | string>;
  /** Request headers: RFC 9110 names, values without line breaks. */
  headers: Zod.ZodType<Record<string, string>>;
  /** A number of extra attempts. */
  retries: Zod.ZodType<number>;
  /** An http(s) URL with a host. */
  httpUrl: Zod.ZodType<string>;
  /** A path that is not empty and that a file system can take (no NUL character). */
  nonEmptyPath: Zod.ZodType<string>;
  /** A hex digest of `bytes` bytes, lower-cased. */
  hex: (bytes: number) => Zod.ZodType<string>;
  /** `true` for all, or a list that narrows it. */
  allOrList: (what: string) => Zod.ZodType<boolean | string[]>;
  /** One argv item: YAML reads `sleep 1` or `[true]` as numbers and booleans; they mean text. */
  argvItem: Zod.ZodType<string, string | number | boolean>;
}

/**
 * The shared fields, built with `z`: zod, or the quick checker of `quick_schema.ts`. A kind's
 * module imports zod only as a type, and a process that reads no job file (a run's child), or
 * reads a valid one, loads none.
 */
export function schemaFields(z: typeof Zod): SchemaFields {
  const jobName: Zod.ZodType<string> = z.string({ error: "must be a job name (a string)" })
    .regex(
      JOB_NAME_PATTERN,
      {
        error: "must use only letters, digits, '.', '_' and '-'",
      },
    ).max(200, { error: "must be at most 200 characters" });

  /** A duration: seconds as a number, or a string like 500ms; in ms once parsed. */
  const duration: Zod.ZodType<number, number | string> = z.union([
    z.number({ error: "must be a duration" }).nonnegative({ error: "must not be negative" }),
    z.string({ error: "must be a duration" }).regex(new RegExp(DURATION_PATTERN), {
      error: "must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h",
    }),
  ], { error: "must be a duration: seconds as a number, or a string like 500ms, 30s, 2m, 1h" })
    .transform(parseDuration)
    .describe("Seconds as a number, or a string like 500ms, 30s, 2m, 1h.");

  /** A size: bytes as a number, or a string like 512KiB; in bytes once parsed. */
  const size: Zod.ZodType<number, number | string> = z.union([
    z.int({ error: "must be a size" }).nonnegative({ error: "must not be negative" }),
    z.string({ error: "must be a size" }).regex(new RegExp(SIZE_PATTERN), {
      error: "must be a size: bytes as a number, or a string like 512KiB, 10MB, 4GiB",
    }),
  ], { error: "must be a size: bytes as a number, or a string like 512KiB, 10MB, 4GiB" })
    .transform(parseSize)
    .describe("Bytes as a number, or a string like 512KiB, 10MB, 4GiB.");

  /** A transfer rate: bytes a second as a number, or a string like 4MiB/s; in bytes a second. */
  const rate: Zod.ZodType<number, number | string> = z.union([
    z.number({ error: "must be a rate" }).min(1, { error: "must be at least 1 byte a second" }),
    z.string({ error: "must be a rate" }).regex(new RegExp(RATE_PATTERN), {
      error: "must be a rate: bytes a second as a number, or a string like 500KiB/s, 4MiB/s, 1GB/s",
    }),
  ], {
    error: "must be a rate: bytes a second as a number, or a string like 500KiB/s, 4MiB/s, 1GB/s",
  })
    .transform(parseRate)
    .describe("Bytes a second as a number, or a string like 500KiB/s, 4MiB/s, 1GB/s.");

  /** Request headers: RFC 9110 names, values without line breaks. */
  const headers: Zod.ZodType<Record<string, string>> = z.record(
    z.string(),
    z.string({ error: "must be a string" }).refine((value) => !/[\r\n\0]/.test(value), {
      error: "must not contain line breaks",
    }),
    { error: "must be a mapping of header names to strings" },
  ).superRefine((value, context) => {
    for (const name of Object.keys(value)) {
      if (HEADER_NAME_PATTERN.test(name)) continue;
      context.addIssue({
        code: "custom",
        path: [name],
        message: "is not an HTTP header name: use letters, digits and !#$%&'*+.^_`|~-",
        params: { aboutKey: true },
      });
    }
  }).describe(
    "Request headers; ${VAR} takes a value from the environment. Secret-looking values " +
      "(Authorization, Cookie, *token*, *key*, ...) are never shown in reports or logs.",
  );

  /** A number of extra attempts. */
  const retries: Zod.ZodType<number> = z.int({ error: "must be a whole number" })
    .min(0, { error: "must be 0 or more" })
    .max(100, { error: "must be at most 100" })
    .describe("Extra attempts after a failed one.");

  /** An http(s) URL with a host. */
  const httpUrl: Zod.ZodType<string> = z.string({ error: "must be a URL (a string)" }).refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
      } catch {
        return false;
      }
    },
    { error: "must be an http(s) URL" },
  );

  /**
   * A path that is not empty and that a file system can take (no NUL character), with no other
   * control character: a newline, a carriage return or an escape in a file name would break the
   * lines of the log, the summary and the scripts that read them (a tab is taken).
   */
  const nonEmptyPath: Zod.ZodType<string> = z.string({ error: "must be a path (a string)" }).min(
    1,
    {
      error: "must not be empty",
    },
  ).refine((path) => !path.includes("\0"), {
    error: "must not contain a NUL character, which no file system takes",
  }).refine((path) => !CONTROL.test(path), {
    error: (issue) => controlCharacterMessage(issue.input as string),
  });

  /** A hex digest of `bytes` bytes, lower-cased. */
  const hex = (bytes: number): Zod.ZodType<string> =>
    z.string({ error: "must be a hex digest (a string)" }).regex(
      new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`),
      { error: `must be ${bytes * 2} hex digits` },
    ).transform((value) => value.toLowerCase());

  /** `true` for all, or a list that narrows it. */
  const allOrList = (what: string): Zod.ZodType<boolean | string[]> =>
    z.union([
      z.boolean(),
      z.array(z.string({ error: `must be a ${what} (a string)` }).min(1), {
        error: `must be true, false or a list of ${what}s`,
      }),
    ], { error: `must be true, false or a list of ${what}s` });

  /** One argv item: YAML reads `sleep 1` or `[true]` as numbers and booleans; they mean text. */
  const argvItem: Zod.ZodType<string, string | number | boolean> = z.union([
    z.string(),
    z.number(),
    z.boolean(),
  ], {
    error: "must be a string",
  }).transform(String);

  return {
    z,
    jobName,
    duration,
    size,
    rate,
    headers,
    retries,
    httpUrl,
    nonEmptyPath,
    hex,
    allOrList,
    argvItem,
  };
}
