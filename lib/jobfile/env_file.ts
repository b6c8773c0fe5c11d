/**
 * `--env-file .env`: variables for `${VAR}` in the job file and for its commands, in the usual
 * dotenv form. A variable already set in the environment wins, so cron's or the caller's setting
 * overrides the file's. `${NAME}` and `${NAME:-default}` in a value that is not in single quotes
 * take NAME's value as Deno's own `--env-file` does (the environment's, else the file's from an
 * earlier line; unset: empty, or the default); `$${` is a literal `${`, and `$NAME` stays as it is.
 *
 * ```
 * # a comment
 * export API_TOKEN=abc123
 * MIRROR="http://10.0.0.5:8080"   # quotes optional; "..." knows \n \" \\
 * FEED=${MIRROR}/feed.xml
 * LITERAL='no ${expansion} here'
 * KEY="-----BEGIN PRIVATE KEY-----
 * MIIEv...
 * -----END PRIVATE KEY-----"
 * ```
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { readEnv } from "../util/env.ts";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/s;

/**
 * Parses dotenv text. A quoted value may go on over several lines (a PEM key), as dotenv reads it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEnvFile } from "./env_file.ts";
 * const vars = parseEnvFile("# c\nexport A=1\nB=\"x\\ny\" # note\nC='$D'\nK=\"-----BEGIN\nabc\n-----END\"\n", ".env");
 * assert(vars.get("A") === "1" && vars.get("B") === "x\ny" && vars.get("C") === "$D");
 * assert.equal(vars.get("K"), "-----BEGIN\nabc\n-----END");
 * ```
 * @throws {UsageError} naming the file and line of a malformed one
 */
export function parseEnvFile(
  text: string,
  file: string,
  env: (name: string) => string | undefined = () => undefined,
): Map<string, string> {
  const vars = new Map<string, string>();
  const lookup = (name: string) => env(name) ?? vars.get(name);
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const at = index + 1;
    const fail = (why: string): never => {
      throw new UsageError(`${file}:${at}: ${why}`);
    };
    const match = LINE.exec(line) ?? fail("expected NAME=value");
    let raw = match[2]!;
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      while (!closes(raw, quote) && index + 1 < lines.length) raw += `\n${lines[++index]}`;
    }
    const value = valueOf(raw, fail);
    vars.set(match[1]!, quote === "'" ? value : expand(value, lookup));
  }
  return vars;
}

/** Whether the quoted value `raw` (its opening quote first) has its closing quote. */
function closes(raw: string, quote: string): boolean {
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === "\\" && quote === '"') i++;
    else if (raw[i] === quote) return true;
  }
  return false;
}

function valueOf(raw: string, fail: (why: string) => never): string {
  const quote = raw[0];
  if (quote === "'" || quote === '"') {
    let out = "";
    for (let i = 1; i < raw.length; i++) {
      const char = raw[i]!;
      if (char === quote) {
        if (!/^\s*(#.*)?$/.test(raw.slice(i + 1))) fail("unexpected text after the closing quote");
        return out;
      }
      if (char === "\\" && quote === '"' && i + 1 < raw.length) {
        const next = raw[++i]!;
        out += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next;
      } else out += char;
    }
    return fail(`the value's ${quote} opened here is never closed`);
  }
  return raw.replace(/\s+#.*$/, "").trim();
}

/** `value` with `${NAME}` and `${NAME:-default}` replaced by `lookup`'s values; `$${` is `${`. */
function expand(value: string, lookup: (name: string) => string | undefined): string {
  if (!value.includes("${")) return value;
  return value.replace(
    /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (whole, escaped: string, name: string, fallback: string | undefined) =>
      escaped ? whole.slice(1) : lookup(name) || (fallback ?? ""),
  );
}

/**
 * Loads env files into the environment, leaving variables already set alone; later files fill in
 * what earlier ones did not. Resolves with every name the files define, set or not.
 *
 * @throws {UsageError} for a file that cannot be read or is malformed
 */
export async function loadEnvFiles(paths: readonly string[]): Promise<string[]> {
  const names: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(
        `--env-file ${path}: ${
          error instanceof Deno.errors.NotFound ? "does not exist" : (error as Error).message
        }`,
      );
    }
    for (const [name, value] of parseEnvFile(text, path, readEnv)) {
      names.push(name);
      if (Deno.env.get(name) === undefined) Deno.env.set(name, value);
    }
  }
  return names;
}
