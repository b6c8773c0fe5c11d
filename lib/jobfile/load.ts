/**
 * Reads a job file's text from disk or stdin, refusing what cannot be a job file before any
 * parsing: too large, binary, not UTF-8.
 *
 * @module
 */
import { concatBytes } from "../util/bytes.ts";
import { dirname, resolve } from "../util/posix_path.ts";
import { InvalidJobFileError, JobFileError } from "./errors.ts";

/** The default size cap: job files are small; a huge one is a mistake or an attack. */
export const MAX_JOB_FILE_BYTES = 4 * 1024 * 1024;

/** What to do instead of a job file past the cap. */
const TOO_LARGE_HINT = ": list many URLs in a file of their own (download.urls_from " +
  "takes a list of any length), and many like jobs as one with repeat or matrix";

/** A job file's text and where its relative paths resolve. */
export interface JobFileSource {
  /** The file as the user named it (`-` for stdin), for messages. */
  file: string;
  /** The text, decoded as UTF-8. */
  text: string;
  /** The folder that relative paths inside the file resolve against. */
  baseDir: string;
}

/** Options for {@linkcode readJobFile}. */
export interface ReadJobFileOptions {
  /** The folder command-line paths resolve against. @default Deno.cwd() */
  cwd?: string;
  /** Where `-` reads from. @default Deno.stdin.readable */
  stdin?: ReadableStream<Uint8Array>;
  /** Largest accepted file. @default MAX_JOB_FILE_BYTES */
  maxBytes?: number;
}

/**
 * Reads a job file (`-` reads stdin).
 *
 * @throws {InvalidJobFileError} when the file is missing, too large, binary or not UTF-8
 */
export async function readJobFile(
  path: string,
  options: ReadJobFileOptions = {},
): Promise<JobFileSource> {
  const { cwd = Deno.cwd(), maxBytes = MAX_JOB_FILE_BYTES } = options;
  const fail = (detail: string, cause?: unknown): never => {
    throw new InvalidJobFileError(path, [new JobFileError(detail, { file: path, cause })]);
  };
  const fromStdin = path === "-";
  const baseDir = fromStdin ? cwd : dirname(resolve(cwd, path));

  let bytes: Uint8Array;
  if (fromStdin) {
    bytes = await readCapped(options.stdin ?? Deno.stdin.readable, maxBytes) ??
      fail(`is larger than ${maxBytes} bytes${TOO_LARGE_HINT}`);
  } else {
    const absolute = resolve(cwd, path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(absolute);
    } catch (error) {
      return fail(
        error instanceof Deno.errors.NotFound ? "does not exist" : `cannot be read: ${error}`,
        error,
      );
    }
    if (!info.isFile) fail("is not a regular file");
    if (info.size > maxBytes) {
      fail(`is larger than ${maxBytes} bytes (${info.size})${TOO_LARGE_HINT}`);
    }
    bytes = await Deno.readFile(absolute);
  }

  if (bytes.includes(0)) fail("is binary (it contains NUL bytes), not YAML or JSON");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    return fail("is not UTF-8 text", error);
  }
  return { file: path, text, baseDir };
}

async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return concatBytes(chunks);
}
