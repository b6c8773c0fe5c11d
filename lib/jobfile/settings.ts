/**
 * `--set key=value`: a top-level setting of the job file overridden from the command line, such
 * as `--set concurrency.io=32` or `--set defaults.retries=5`. The value is read as YAML (so
 * numbers are numbers and `{a: b}` is a mapping) and checked with the rest of the file; an error
 * in it names the `--set`, not a line of the file.
 *
 * @module
 */
import { InvalidJobFileError, JobFileError } from "./errors.ts";
import { UsageError } from "../errors.ts";
import type { ParsedDocument } from "./document.ts";
import { parsePlainYaml } from "./plain_yaml.ts";
import { closest } from "./suggest.ts";

/** One parsed `--set`. */
export interface Setting {
  /** As given, for messages. */
  text: string;
  path: string[];
  value: unknown;
}

/** The settings `--set` may change: everything but the jobs. */
const SETTABLE = ["output", "report", "concurrency", "defaults"];

/**
 * Parses `--set key=value` arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSettings } from "./settings.ts";
 * const [io] = await parseSettings(["concurrency.io=32"]);
 * assert(io?.path.join() === "concurrency,io" && io.value === 32);
 * ```
 * @throws {UsageError} for a malformed one or a key outside the settings
 */
export async function parseSettings(texts: readonly string[]): Promise<Setting[]> {
  if (texts.length === 0) return [];
  // Values are read as YAML: a plain one (`32`, `4MiB/s`, `[a, b]`) without the YAML parser,
  // which is loaded for any other.
  const yaml = texts.some((text) => plainValue(text.slice(text.indexOf("=") + 1)) === undefined)
    ? (await import("./yaml.ts")).YAML
    : undefined;
  const readValue = (text: string): unknown => {
    const plain = plainValue(text);
    if (plain !== undefined || !yaml) return plain?.value;
    try {
      return yaml.parse(text);
    } catch {
      return text; // not YAML: the text itself, and the schema says whether a string will do
    }
  };
  return texts.map((text) => {
    const match = /^([A-Za-z_][\w.]*)=(.*)$/s.exec(text);
    if (!match) {
      throw new UsageError(`--set takes key=value, such as concurrency.io=32: got "${text}"`);
    }
    const path = match[1]!.split(".");
    if (path.some((part) => part === "") || !SETTABLE.includes(path[0]!)) {
      const settable = `${SETTABLE.join(", ")} and what is under them`;
      if (path[0] === "jobs") {
        throw new UsageError(
          `--set ${text}: only top-level settings may be set (${settable}), not jobs`,
        );
      }
      const guess = closest(path[0]!, SETTABLE);
      throw new UsageError(
        `--set ${text}: ${path[0]} is not a setting` +
          (guess ? ` (did you mean ${guess}?)` : "") + `; --set takes ${settable}`,
      );
    }
    return { text, path, value: readValue(match[2]!) };
  });
}

/** The document with the settings applied (its value copied where they change it). */
export function applySettings(doc: ParsedDocument, settings: readonly Setting[]): ParsedDocument {
  if (settings.length === 0) return doc;
  let value = doc.value;
  for (const { path, value: setTo } of settings) value = setIn(value, path, setTo);
  return { ...doc, value };
}

function setIn(node: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const object = node !== null && typeof node === "object" && !Array.isArray(node)
    ? node as Record<string, unknown>
    : {};
  // defineProperty, not assignment: a key such as __proto__ stays a plain key.
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    Object.defineProperty(copy, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(copy, head, {
    value: setIn(object[head], rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

/**
 * Re-labels the errors about values that came from `--set`: they name the `--set`, not a line
 * of the file. Other errors pass through.
 */
export function blameSettings(error: unknown, settings: readonly Setting[]): unknown {
  if (!(error instanceof InvalidJobFileError) || settings.length === 0) return error;
  const owner = (field: string) =>
    settings.findLast(({ path }) => {
      const key = path.join(".");
      return field === key || field.startsWith(`${key}.`) || field.startsWith(`${key}[`);
    });
  let changed = false;
  const errors = error.errors.map((item: JobFileError) => {
    const setting = owner(item.field);
    if (!setting) return item;
    changed = true;
    return new JobFileError(item.detail, {
      file: `--set ${setting.text}`,
      field: item.field,
      hint: item.hint,
    });
  });
  return changed ? new InvalidJobFileError(error.file, errors) : error;
}

/** A value in plain YAML (see plain_yaml.ts), or undefined for any other. */
function plainValue(text: string): { value: unknown } | undefined {
  if (text.includes("\n")) return undefined;
  const doc = parsePlainYaml(`value: ${text}`, "--set");
  return doc && { value: (doc.value as { value: unknown }).value };
}
