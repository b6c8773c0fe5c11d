/**
 * Parsing an HTTP/1.x response head (status line and header fields) and deciding how its body
 * is framed, after RFC 9112. Pure functions of bytes: the connection code does the reading.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";

/** A parsed response head. */
export interface ResponseHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  status: number;
  statusText: string;
  headers: Headers;
}

/** How a response body is delimited on the connection. */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** The longest response head accepted, in bytes. */
export const MOST_HEAD_BYTES = 64 * 1024;

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses a head: its bytes up to, not including, the empty line that ends it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResponseHead } from "./head.ts";
 * const bytes = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 5");
 * const head = parseResponseHead(bytes);
 * assert(head.status === 200 && head.headers.get("content-length") === "5");
 * ```
 *
 * @throws {ProtocolError} for anything but a well-formed HTTP/1.0 or 1.1 head
 */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  const lines = latin1(bytes).split("\n");
  const statusLine = trimCr(lines[0]!);
  const match = STATUS_LINE.exec(statusLine);
  if (!match) {
    throw new ProtocolError(
      `not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`,
    );
  }
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const line = trimCr(lines[i]!);
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw new ProtocolError("a folded header line (obsolete line folding is refused)");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      throw new ProtocolError(`a malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw new ProtocolError(`a malformed value of header ${name}`);
    }
  }
  return {
    minorVersion: match[1] === "1" ? 1 : 0,
    status: Number(match[2]),
    statusText: match[3] ?? "",
    headers,
  };
}

/**
 * How the body of a response to a GET is framed: no body for 1xx, 204 and 304; chunked when the
 * last transfer coding is chunked; read to the end of the connection for any other transfer
 * coding or when no length is given; else Content-Length.
 *
 * @throws {ProtocolError} on an invalid or conflicting Content-Length
 */
export function framingOf(head: ResponseHead): Framing {
  const { status, headers } = head;
  if (status < 200 || status === 204 || status === 304) return { kind: "none" };
  const codings = headers.get("transfer-encoding");
  if (codings !== null) {
    const last = codings.split(",").at(-1)!.trim().toLowerCase();
    return last === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const declared = headers.get("content-length");
  if (declared === null) return { kind: "close" };
  const values = new Set(declared.split(",").map((value) => value.trim()));
  const [value] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(value!)) {
    throw new ProtocolError(`an invalid Content-Length: ${JSON.stringify(declared)}`);
  }
  return { kind: "length", length: Number(value) };
}

/**
 * Whether the connection may carry another request once this response's body is read: HTTP/1.1
 * unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`; never after a body
 * read to the end of the connection, nor when Transfer-Encoding and Content-Length conflict.
 */
export function keepsAlive(head: ResponseHead, framing: Framing): boolean {
  if (framing.kind === "close") return false;
  const { headers } = head;
  if (headers.has("transfer-encoding") && headers.has("content-length")) return false;
  const tokens = (headers.get("connection") ?? "").toLowerCase().split(",").map((t) => t.trim());
  return head.minorVersion === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
}

const asciiDecoder = new TextDecoder();

/** Bytes as ISO-8859-1 text: every byte one character, as header values are ByteStrings. */
function latin1(bytes: Uint8Array): string {
  // Heads are almost always ASCII, where UTF-8 gives the same text natively.
  const ascii = asciiDecoder.decode(bytes);
  if (ascii.length === bytes.length) return ascii;
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

function trimCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
