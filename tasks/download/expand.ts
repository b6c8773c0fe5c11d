/**
 * A `download:` entry to jobs (one per URL of `url`, `urls` or `urls_from`), and the rules
 * across all downloads of a plan.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "../../lib/util/posix_path.ts";
import type { ExpandContext, Fail, JobEntry, PlanCheckContext } from "../../lib/kind_definition.ts";
import type { PathSegment } from "../../lib/jobfile/document.ts";
import { cleanRelativePath, isInside, realTarget } from "../../lib/util/paths.ts";
import { redactUrl } from "../../lib/util/secrets.ts";
import { controlCharacterIn } from "../../lib/jobfile/fields.ts";
import type { DownloadJob } from "./job.ts";
import type { DownloadDefaults, DownloadSpec } from "./spec.ts";
import {
  ChecksumConflict,
  type ChecksumList,
  type ListedDigest,
  parseChecksumFile,
} from "./checksum_file.ts";

/** Download settings when neither the job nor `defaults.download` gives them. */
export const DOWNLOAD_DEFAULTS = {
  maxBytes: 4 * 2 ** 30,
  idleTimeoutMs: 30_000,
  maxWaitMs: 60_000,
} as const;

/** A `download:` entry's jobs: one per URL, `to` resolved, defaults applied. */
export async function expandDownload(
  entry: JobEntry,
  context: ExpandContext,
): Promise<DownloadJob[]> {
  const { path, baseDir, output, fail, common } = context;
  const defaults = context.defaults as DownloadDefaults;
  const download = entry.download as DownloadSpec;
  const fromEnvironment = (headers: Record<string, string> | undefined, at: PathSegment[]) =>
    Object.keys(headers ?? {}).filter((name) => context.fromEnvironment([...at, name]));
  const settings = {
    sha512: download.sha512,
    headers: mergeHeaders(defaults.headers, download.headers),
    secretHeaders: [
      ...fromEnvironment(defaults.headers, ["defaults", "download", "headers"]),
      ...fromEnvironment(download.headers, [...path, "download", "headers"]),
    ].map((name) => name.toLowerCase()),
    maxBytes: download.max_bytes ?? defaults.max_bytes ?? DOWNLOAD_DEFAULTS.maxBytes,
    idleTimeoutMs: download.idle_timeout ?? defaults.idle_timeout ??
      DOWNLOAD_DEFAULTS.idleTimeoutMs,
    maxWaitMs: download.max_wait ?? defaults.max_wait ?? DOWNLOAD_DEFAULTS.maxWaitMs,
    recordSha256: download.record_sha256 ?? defaults.record_sha256 ?? false,
    ...(download.mirrors ? { mirrors: download.mirrors } : {}),
    segments: download.segments ?? defaults.segments ?? 1,
    ...(download.remote_time ?? defaults.remote_time ? { remoteTime: true as const } : {}),
  };
  const at: PathSegment[] = [...path, "download"];
  const checksums = download.checksums === undefined
    ? undefined
    : await checksumSource(download.checksums, { ...context, at: [...at, "checksums"] });

  let urls: ListedUrl[];
  if (download.url !== undefined) {
    urls = [{ url: download.url, at: [...at, "url"] }];
  } else if (download.urls !== undefined) {
    urls = download.urls.map((url, i) => ({ url, at: [...at, "urls", i] }));
  } else {
    const list = resolve(baseDir, download.urls_from!);
    context.read(list);
    urls = await readUrlList(list, [...at, "urls_from"], fail);
  }
  const single = download.url !== undefined;
  const to = download.to;
  const intoFolder = to === undefined || to.endsWith("/") || !single;
  const keepPath = download.keep_path === true;
  if (keepPath && !intoFolder) {
    fail([...at, "keep_path"], "needs `to` to be a folder (ending in /) or left out");
  }
  if (download.cut_dirs !== undefined && !keepPath) {
    fail([...at, "cut_dirs"], "applies only with keep_path: true");
  }

  const jobs: DownloadJob[] = [];
  /** Each name taken, with the URL that took it. */
  const seen = new Map<string, ListedUrl>();
  for (const listed of urls) {
    const { url, at: urlAt } = listed;
    let target: string;
    let fileName: string;
    try {
      // A URL's file name is one plain name: joined to nothing, it is itself.
      fileName = !intoFolder
        ? ""
        : listed.out !== undefined
        ? cleanRelativePath(listed.out)
        : keepPath
        ? urlPath(url, download.cut_dirs ?? 0)
        : urlFileName(url);
      target = cleanRelativePath(
        !intoFolder ? to! : to === undefined ? fileName : join(to, fileName),
      );
    } catch (error) {
      const message = (error as Error).message;
      if (listed.out !== undefined) fail(urlAt, `${listed.list}:${listed.outLine} out= ${message}`);
      else fail(to === undefined ? urlAt : [...at, "to"], message);
      continue;
    }
    // The name under `to`: the URL's file name, or with keep_path its path, or the list's out=.
    const shown = keepPath || listed.out !== undefined ? fileName : basename(target);
    const name = single ? entry.name : `${entry.name}/${shown}`;
    const first = seen.get(name);
    if (first) {
      fail(urlAt, repeatedName(listed, first, shown, keepPath));
      continue;
    }
    seen.set(name, listed);
    const job: DownloadJob = {
      ...common,
      name,
      kind: "download",
      url,
      path: join(output, target),
      relativePath: target,
      sha256: download.sha256,
      ...settings,
      ...(intoFolder && !keepPath && listed.out === undefined ? { nameFromServer: true } : {}),
      ...(listed.mirrors ? { mirrors: listed.mirrors } : {}),
      ...(listed.digest ? { [listed.digest.algorithm]: listed.digest.hex } : {}),
    };
    // The list's own checksum for the file is the one it is held to.
    if (checksums && !listed.digest) {
      const conflict = applyChecksums(job, checksums, url, keepPath ? shown : undefined);
      // A checksum file that contradicts itself on this file: the job file's input is wrong.
      if (conflict !== undefined) fail([...at, "checksums"], conflict);
    }
    jobs.push(job);
  }
  return jobs;
}

/** A URL of a download entry, and the line of its `urls_from` list it is on. */
interface ListedUrl {
  url: string;
  at: PathSegment[];
  list?: string;
  line?: number;
  /** The list's `out=`: the file's name under `to`. */
  out?: string;
  /** The line of the list that gives `out=`. */
  outLine?: number;
  /** More sources of the same file: the line's URLs after the first (TAB-separated). */
  mirrors?: string[];
  /** The list's `checksum=sha-256=HEX` (or sha-512). */
  digest?: { algorithm: "sha256" | "sha512"; hex: string };
}

/** Why a fan-out's URL cannot have the file name an earlier one took: both places named. */
function repeatedName(
  listed: ListedUrl,
  first: ListedUrl,
  fileName: string,
  keepPath: boolean,
): string {
  // A list's line is named in full; a place in the job file is `at` already.
  const here = listed.list ? `${listed.list}:${listed.line} ` : "";
  const there = first.list ? `line ${first.outLine ?? first.line}` : `urls[${first.at.at(-1)}]`;
  if (listed.url === first.url) {
    return `${here}repeats the URL of ${there}: ${redactUrl(listed.url)} (list it once)`;
  }
  if (listed.out !== undefined) {
    return `${listed.list}:${listed.outLine} gives the file name ${fileName}, as ${there} does (${
      redactUrl(first.url)
    }): give one another out=`;
  }
  return `${here}gives the file name ${fileName}, as ${there} does (${redactUrl(first.url)}): ${
    keepPath ? "" : "keep their folders with keep_path: true, or "
  }give one a job of its own ` +
    "with `to`";
}

/** Where a `checksums:` file is: read now (a local file), or fetched by the run (a URL). */
type ChecksumSource =
  | { kind: "local"; file: string; list: ChecksumList }
  | { kind: "remote"; url: string };

/** Reads a local checksum file now; a URL is left to the run. Undefined when it is unusable. */
async function checksumSource(
  value: string,
  context: Pick<ExpandContext, "baseDir" | "fail" | "read"> & { at: PathSegment[] },
): Promise<ChecksumSource | undefined> {
  if (/^https?:\/\//i.test(value)) {
    try {
      new URL(value);
      return { kind: "remote", url: value };
    } catch {
      context.fail(context.at, `is not a valid URL: got ${value}`);
      return undefined;
    }
  }
  const file = resolve(context.baseDir, value);
  context.read(file);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    context.fail(context.at, `cannot read the checksum file ${file}: ${(error as Error).message}`);
    return undefined;
  }
  const list = parseChecksumFile(text);
  if (list.size === 0) {
    context.fail(
      context.at,
      `${file} has no usable checksum line: expected "<sha256 or sha512 hex>  <name>" or ` +
        `"SHA256 (<name>) = <hex>"`,
    );
    return undefined;
  }
  return { kind: "local", file, list };
}

/**
 * Gives `job` its expected digest from the checksum file, or says why it has none; returns what
 * is wrong when the file lists it twice with different digests.
 */
function applyChecksums(
  job: DownloadJob,
  source: ChecksumSource,
  url: string,
  kept?: string,
): string | undefined {
  // A kept path is looked for whole, then without its leading folders one by one: a checksum
  // file lists paths from its own folder, somewhere up the URL's path.
  const suffixes = kept?.split("/").map((_, i, parts) => parts.slice(i).join("/")) ?? [];
  const names = [...new Set([...suffixes, basename(job.relativePath), safeUrlFileName(url)])]
    .filter(Boolean);
  if (source.kind === "remote") {
    job.checksumsUrl = source.url;
    job.checksumNames = names;
    return undefined;
  }
  let digest: ListedDigest | undefined;
  try {
    digest = source.list.find(names);
  } catch (error) {
    if (!(error instanceof ChecksumConflict)) throw error;
    return `${source.file} ${error.message}`;
  }
  if (!digest) {
    job.unverifiable = `the checksum file ${source.file} does not list ${names.join(" or ")}`;
  } else if (digest.algorithm === "sha256") job.sha256 = digest.hex;
  else job.sha512 = digest.hex;
  return undefined;
}

function safeUrlFileName(url: string): string {
  try {
    return urlFileName(url);
  } catch {
    return "";
  }
}

/** `defaults` then `own`, names compared case-insensitively; the job's value wins. */
function mergeHeaders(
  defaults: Record<string, string> | undefined,
  own: Record<string, string> | undefined,
): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of [...Object.entries(defaults ?? {}), ...Object.entries(own ?? {})]) {
    merged.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}

/**
 * A URL's path as folders and a file name under `to` (`keep_path`): its file name as
 * {@linkcode urlFileName} gives it, under its folders past the first `cutDirs`, each decoded as
 * a name is (a `/` or a control character in one stays encoded). Empty folders (`//`) are passed
 * over; a `..` is refused.
 */
function urlPath(url: string, cutDirs: number): string {
  const fileName = urlFileName(url);
  const folders = new URL(url).pathname.split("/").slice(1, -1).filter((folder) => folder !== "")
    .slice(cutDirs).map((segment) => {
      // deno-lint-ignore no-control-regex
      const folder = plainName(segment, /[\\/\x00-\x1f\x7f-\x9f]/g);
      if (folder === "." || folder === "..") {
        throw new RangeError(`has a ${folder} folder in its URL path: set \`to\` (${url})`);
      }
      return folder;
    });
  return [...folders, fileName].join("/");
}

/** `segment` decoded, but for the characters `kept`, which stay percent-encoded. */
function plainName(segment: string, kept: RegExp): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return segment;
  }
  return name.replace(kept, encodeURIComponent);
}

/**
 * The decoded last path segment of a URL, refused when it cannot be a file name. Control
 * characters stay percent-encoded, as wget leaves them: a name from a URL list becomes a job's
 * name too, and a newline or an escape sequence in it would forge lines of the log or drive the
 * terminal that shows it.
 */
function urlFileName(url: string): string {
  const segment = new URL(url).pathname.split("/").at(-1) ?? "";
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  if (name === "" || name === "." || name === ".." || /[\\/\0]/.test(name)) {
    throw new RangeError(`has no usable file name in its URL path: set \`to\` (${url})`);
  }
  // deno-lint-ignore no-control-regex
  return name.replace(/[\x00-\x1f\x7f-\x9f]/g, encodeURIComponent);
}

async function readUrlList(
  file: string,
  at: PathSegment[],
  fail: Fail,
): Promise<ListedUrl[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    fail(at, `cannot read the URL list ${file}: ${(error as Error).message}`);
    return [];
  }
  const urls: ListedUrl[] = [];
  let bad = 0;
  /** The line of the last URL line, good or bad: a bad one's options are not checked. */
  let lastUrlLine = 0;
  const isHttp = (text: string) => {
    try {
      const { protocol } = new URL(text);
      return protocol === "http:" || protocol === "https:";
    } catch {
      return false;
    }
  };
  for (const [lineIndex, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const place = `${file}:${lineIndex + 1}`;
    // An indented `key=value` line is an option of the URL above it, as in aria2's input files.
    const option = /^\s/.test(raw) ? /^([a-z][a-z0-9-]*)=(.*)$/.exec(line) : null;
    if (option) {
      const last = urls.at(-1);
      if (lastUrlLine === 0) {
        fail(at, `${place} gives ${option[1]}= with no URL above it`);
        continue;
      }
      if (last === undefined || last.line !== lastUrlLine) continue; // that URL is refused already
      const problem = applyListOption(last, option[1]!, option[2]!, lineIndex + 1);
      if (problem) fail(at, `${place} ${problem}`);
      continue;
    }
    // TAB-separated URLs are one file's sources, the first tried first (aria2's mirrors).
    const [url, ...mirrors] = line.split("\t").map((part) => part.trim()).filter(Boolean);
    const notHttp = [url!, ...mirrors].find((each) => !isHttp(each));
    lastUrlLine = lineIndex + 1;
    if (notHttp === undefined) {
      urls.push({
        url: url!,
        at,
        list: file,
        line: lineIndex + 1,
        ...(mirrors.length > 0 ? { mirrors } : {}),
      });
    } else {
      bad++;
      fail(at, `${place} is not an http(s) URL: got "${notHttp}"`);
    }
  }
  if (urls.length === 0 && bad === 0) fail(at, `lists no URLs: ${file} has none`);
  return urls;
}

/**
 * Applies a list's option line (`out=NAME`, `checksum=sha-256=HEX`) to the URL above it; what is
 * wrong with it, or undefined.
 */
function applyListOption(
  listed: ListedUrl,
  key: string,
  value: string,
  line: number,
): string | undefined {
  if (key === "out") {
    if (listed.out !== undefined) return `gives out= twice for ${redactUrl(listed.url)}`;
    if (value === "") return "gives an empty out=";
    const control = controlCharacterIn(value);
    if (control) return `out= ${control}`;
    listed.out = value;
    listed.outLine = line;
    return undefined;
  }
  if (key === "checksum") {
    const digest = /^(sha-?256|sha-?512)=([0-9a-fA-F]+)$/i.exec(value);
    if (!digest) {
      return `checksum= must be sha-256=HEX or sha-512=HEX: got "${value}"`;
    }
    const algorithm = digest[1]!.toLowerCase().replace("-", "") as "sha256" | "sha512";
    const length = algorithm === "sha256" ? 64 : 128;
    if (digest[2]!.length !== length) {
      return `checksum= ${digest[1]} needs ${length} hex digits: got ${digest[2]!.length}`;
    }
    if (listed.digest) return `gives checksum= twice for ${redactUrl(listed.url)}`;
    listed.digest = { algorithm, hex: digest[2]!.toLowerCase() };
    return undefined;
  }
  return `has an option taskpool does not take: ${key}= (it takes out= and checksum=)`;
}

/**
 * Rules across every download of the plan: none writes outside the output folder through a
 * symlink inside it, nor where another keeps its partial file (`<to>.part`, and its sidecar
 * `<to>.part.json`).
 */
export function checkDownloads(jobs: readonly DownloadJob[], context: PlanCheckContext): void {
  const { output, fail } = context;
  // Many downloads share a folder: resolve the real root once and each real folder once.
  const realOutput = realTarget(output);
  const folderInside = new Map<string, boolean>();
  const partOf = (path: string) =>
    path.endsWith(".part")
      ? path.slice(0, -5)
      : path.endsWith(".part.json")
      ? path.slice(0, -10)
      : undefined;
  const partials = jobs.some((job) => partOf(job.path) !== undefined)
    ? new Map(jobs.map((job) => [job.path, job.name]))
    : undefined;
  for (const job of jobs) {
    const at = context.entryPath(job);
    const base = partials && partOf(job.path);
    const owner = base === undefined ? undefined : partials?.get(base);
    if (owner !== undefined) {
      fail(
        [...at, "download"],
        `writes ${job.relativePath}, where ${owner} keeps its partial download`,
        "choose another `to:`",
      );
    }
    const folder = dirname(job.path);
    let inside = folderInside.get(folder);
    if (inside === undefined) {
      inside = isInside(realOutput, realTarget(folder));
      folderInside.set(folder, inside);
    }
    if (!inside) {
      fail(
        [...at, "download", "to"],
        `would write outside the output folder through a symlink: ${job.relativePath}`,
      );
    }
  }
}
