/**
 * The download kind's part of the job file: `download:` and `defaults.download`, built from the
 * fields the job file's schema hands in (see `SchemaPart` in lib/kind_definition.ts).
 *
 * @module
 */
import type { z } from "zod";
import type { SchemaFields } from "../../lib/jobfile/fields.ts";

/** `build`, called once per set of fields: spec and defaults share the same setting schemas. */
function once<T>(build: (fields: SchemaFields) => T): (fields: SchemaFields) => T {
  const built = new WeakMap<SchemaFields, T>();
  return (fields) => {
    if (!built.has(fields)) built.set(fields, build(fields));
    return built.get(fields)!;
  };
}

/** Download settings a job may set and `defaults.download` may give every download. */
const settingsOf = once((fields: SchemaFields) => {
  const { z, headers, size, duration } = fields;
  return {
    headers: headers.optional(),
    max_bytes: size.optional().describe("The largest file accepted (default 4GiB)."),
    idle_timeout: duration.optional().describe(
      "Fail a transfer that receives less than 1 KiB in this long (default 30s; 0 = never).",
    ),
    max_wait: duration.optional().describe(
      "The longest a server's Retry-After may delay the next attempt (default 1m).",
    ),
    record_sha256: z.boolean({ error: "must be true or false" }).optional().describe(
      "Hash every file into the report and state even with no checksum to verify " +
        "(about 0.7 ms of CPU per MiB; default false).",
    ),
    remote_time: z.boolean({ error: "must be true or false" }).optional().describe(
      "Give each file the server's Last-Modified time, as curl -R and wget do (default false).",
    ),
    segments: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
      .max(16, { error: "must be at most 16" }).optional().describe(
        "Fetch a file of known length in this many ranges over as many connections, where the " +
          "server allows ranges (default 1).",
      ),
  };
});

/** `download:` one URL or a fan-out of many. */
export const downloadSpec = once((fields: SchemaFields) => {
  const { z, httpUrl, nonEmptyPath, hex } = fields;
  return z.strictObject({
    url: httpUrl.optional().describe("One http(s) URL."),
    urls: z.array(httpUrl, { error: "must be a list of URLs" }).min(1, {
      error: "must list at least one URL",
    }).optional().describe("Many URLs: one job each, named <name>/<file>."),
    urls_from: nonEmptyPath.optional().describe(
      "A text file with one URL a line (# starts a comment), relative to the job file; " +
        "aria2's indented out= and checksum= lines and TAB-separated mirrors.",
    ),
    to: nonEmptyPath.optional().describe(
      "Target under output; ending in / means a folder. Defaults to the URL's file name.",
    ),
    sha256: hex(32).optional().describe("Expected SHA-256 of the file (single url only)."),
    sha512: hex(64).optional().describe("Expected SHA-512 of the file (single url only)."),
    mirrors: z.array(httpUrl, { error: "must be a list of URLs" }).min(1, {
      error: "must list at least one URL",
    }).optional().describe(
      "More URLs of the same file (single url only): an attempt that fails on one source moves " +
        "on to the next.",
    ),
    keep_path: z.boolean({ error: "must be true or false" }).optional().describe(
      "Keep each URL's folders under to (the host left out), as wget -x -nH does, so that files " +
        "of one name in different folders do not clash (default false).",
    ),
    cut_dirs: z.int({ error: "must be a whole number" }).min(0, { error: "must be at least 0" })
      .optional().describe(
        "With keep_path, leave out this many leading folders of each URL's path, as wget " +
          "--cut-dirs does.",
      ),
    checksums: nonEmptyPath.optional().describe(
      "A checksum file (SHA256SUMS or SHA512SUMS, GNU or BSD lines), relative to the job file " +
        "or an http(s) URL fetched once per run: each file is verified against the line with " +
        "its name.",
    ),
    ...settingsOf(fields),
  }, { error: "must be a mapping with url, urls or urls_from" });
});

/** `defaults.download`: settings every download inherits. */
export const downloadDefaults = once((fields: SchemaFields) =>
  fields.z.strictObject(settingsOf(fields), {
    error: "must be a mapping of download settings (headers, max_bytes, idle_timeout, " +
      "max_wait, record_sha256, remote_time, segments)",
  }).default({}).describe("Settings every download inherits; its headers merge with a job's.")
);

/** A validated `download:`. */
export type DownloadSpec = z.output<ReturnType<typeof downloadSpec>>;
/** A validated `defaults.download`. */
export type DownloadDefaults = z.output<ReturnType<typeof downloadDefaults>>;
