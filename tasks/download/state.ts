/**
 * What downloads remember between runs, in `<output>/.taskpool/state.json`: for each file, the
 * URL it came from (without any user or password: see {@linkcode stateUrl}), its size, mtime and (when hashed) SHA-256 as written, and the server's validators (ETag,
 * Last-Modified) for a conditional request next time; for each kept `.part`, what is needed to
 * resume it with `Range` + `If-Range`. Written atomically at the end of a run (also an
 * interrupted one). A missing or unreadable state only costs re-downloads, never wrong data.
 *
 * @module
 */
import { join } from "../../lib/util/posix_path.ts";
import { redactQuery } from "../../lib/util/secrets.ts";
import { writeChunksAtomic } from "../../lib/util/write_atomic.ts";

/** A complete file as taskpool wrote it. */
export interface FileRecord {
  url: string;
  bytes: number;
  /** The file's mtime right after the rename: a changed file no longer matches. */
  mtimeMs: number;
  /** Known when the download was hashed (a checksum to verify, or `record_sha256`). */
  sha256?: string;
  etag?: string;
  lastModified?: string;
  /** The file name the server gave (`Content-Disposition`), in the target's folder. */
  savedAs?: string;
}

/** A `.part` kept for resuming. */
export interface PartRecord {
  /** The source that sent its bytes (one of a job's mirrors, or its URL). */
  url: string;
  bytes: number;
  /** The strong ETag or the Last-Modified date to send as `If-Range`. */
  validator: string;
  /** The whole file's size, when known: with the dates, what another source must match. */
  total?: number;
  etag?: string;
  lastModified?: string;
  /** A split download's ranges: `[start, end, done]` each, end exclusive. */
  segments?: [number, number, number][];
  /** The file name its server gave (`Content-Disposition`), for a split download's resume. */
  savedAs?: string;
}

interface State {
  files: Map<string, FileRecord>;
  parts: Map<string, PartRecord>;
}

/**
 * A URL as the state records it: without its user and password, and with `***` for the values of
 * its secret-looking query parameters, which must never reach a file. The same resource with
 * other credentials (a presigned URL signed again) is the same file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateUrl } from "./state.ts";
 * assert.equal(stateUrl("http://me:s3cret@127.0.0.1:8000/a?x=1"), "http://127.0.0.1:8000/a?x=1");
 * assert.equal(stateUrl("https://host/b?X-Amz-Signature=0a1b"), "https://host/b?X-Amz-Signature=***");
 * assert.equal(stateUrl("https://host/b"), "https://host/b");
 * ```
 */
export function stateUrl(url: string): string {
  if (!url.includes("@")) return redactQuery(url); // no userinfo: nothing to take out
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return redactQuery(url);
  parsed.username = "";
  parsed.password = "";
  return redactQuery(parsed.href);
}

/** The state file's path for an output folder. */
export function stateFilePath(output: string): string {
  return join(output, ".taskpool", "state.json");
}

/**
 * The download state of one output folder, keyed by path relative to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DownloadState } from "./state.ts";
 * const dir = await Deno.makeTempDir();
 * const state = await DownloadState.load(dir);
 * state.setFile("a.bin", { url: "http://x/a.bin", bytes: 1, mtimeMs: 0, sha256: "00" });
 * await state.save();
 * assert((await DownloadState.load(dir)).file("a.bin")?.bytes === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DownloadState {
  readonly #path: string | undefined;
  readonly #data: State;
  #dirty = false;

  private constructor(path: string | undefined, data: State) {
    this.#path = path;
    this.#data = data;
  }

  /** A state kept in memory only (`save` does nothing): for tests and one-off use. */
  static memory(): DownloadState {
    return new DownloadState(undefined, { files: new Map(), parts: new Map() });
  }

  /** Reads the state of `output`; a missing or damaged file gives an empty state. */
  static async load(output: string): Promise<DownloadState> {
    const path = stateFilePath(output);
    const data: State = { files: new Map(), parts: new Map() };
    try {
      const parsed = JSON.parse(await Deno.readTextFile(path));
      if (parsed?.version === 1 && isObject(parsed.files) && isObject(parsed.parts)) {
        for (const [key, value] of Object.entries(parsed.files)) {
          if (isObject(value)) data.files.set(key, value as unknown as FileRecord);
        }
        for (const [key, value] of Object.entries(parsed.parts)) {
          if (isObject(value)) data.parts.set(key, value as unknown as PartRecord);
        }
      }
    } catch {
      // none yet, or damaged: start afresh
    }
    return new DownloadState(path, data);
  }

  /** The record of a complete file. */
  file(path: string): FileRecord | undefined {
    return this.#data.files.get(path);
  }

  setFile(path: string, record: FileRecord): void {
    this.#data.files.set(path, record);
    this.#dirty = true;
  }

  /** The record of a kept `.part`. */
  part(path: string): PartRecord | undefined {
    return this.#data.parts.get(path);
  }

  /** Records a kept `.part`, or forgets it (undefined). */
  setPart(path: string, record: PartRecord | undefined): void {
    if (record) this.#data.parts.set(path, record);
    else if (!this.#data.parts.delete(path)) return;
    this.#dirty = true;
  }

  /** Writes the state atomically if anything changed. */
  async save(): Promise<void> {
    if (!this.#dirty || this.#path === undefined) return;
    // In pieces: the state of a hundred thousand files is never one string.
    await writeChunksAtomic(this.#path, stateJson(this.#data));
    this.#dirty = false;
  }
}

/** Records per piece of the state file's text. */
const RECORDS_PER_CHUNK = 1000;

/** The state file's JSON text, `{"version":1,"files":{...},"parts":{...}}`, in pieces. */
function* stateJson(data: State): Generator<string> {
  yield '{"version":1,"files":{';
  yield* entriesJson(data.files);
  yield '},"parts":{';
  yield* entriesJson(data.parts);
  yield "}}\n";
}

function* entriesJson(records: ReadonlyMap<string, unknown>): Generator<string> {
  let piece: string[] = [];
  let first = true;
  for (const [key, record] of records) {
    piece.push(`${JSON.stringify(key)}:${JSON.stringify(record)}`);
    if (piece.length === RECORDS_PER_CHUNK) {
      yield `${first ? "" : ","}${piece.join(",")}`;
      first = false;
      piece = [];
    }
  }
  if (piece.length > 0) yield `${first ? "" : ","}${piece.join(",")}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
