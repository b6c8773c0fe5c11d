/**
 * Logins from `~/.netrc` (or the file `NETRC` names), as curl `--netrc` and wget read them: a
 * request to a host with a `machine` entry (or to any host, with a `default` entry) that has no
 * Authorization header and no user in its URL is sent with that login, as Basic auth. The file
 * is read by the run itself, so its passwords never enter the plan, a report or a log.
 *
 * @module
 */
import { join } from "../../lib/util/posix_path.ts";
import { readEnv } from "../../lib/util/env.ts";

/** A netrc file found for this process: its path and the variables that located it. */
export interface NetrcLocation {
  path: string;
  /** The environment variables read to find it. */
  variables: string[];
}

let located: NetrcLocation | null | undefined;

/**
 * Where this process's netrc file is (`NETRC`, else `$HOME/.netrc`), when there is one; looked
 * up once.
 */
export function netrcPath(): NetrcLocation | undefined {
  if (located === undefined) located = locate() ?? null;
  return located ?? undefined;
}

function locate(): NetrcLocation | undefined {
  const named = readEnv("NETRC");
  const home = readEnv("HOME");
  const path = named !== undefined ? named : home ? join(home, ".netrc") : undefined;
  if (!path) return undefined;
  try {
    if (!Deno.statSync(path).isFile) return undefined;
  } catch {
    return undefined;
  }
  return { path, variables: named !== undefined ? ["NETRC"] : ["NETRC", "HOME"] };
}

interface Login {
  login: string;
  password: string;
}

/**
 * A parsed netrc file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Netrc } from "./netrc.ts";
 * const netrc = Netrc.parse(`machine a.test login me password "p w"\ndefault login anon password x`);
 * assert.equal(netrc.authorization("a.test"), `Basic ${btoa("me:p w")}`);
 * assert.equal(netrc.authorization("b.test"), `Basic ${btoa("anon:x")}`);
 * assert.equal(Netrc.parse("").authorization("a.test"), undefined);
 * ```
 */
export class Netrc {
  readonly #machines = new Map<string, Login>();
  #default: Login | undefined;

  /** Reads `path`; a file that cannot be read gives no logins. */
  static async load(path: string | undefined): Promise<Netrc> {
    if (path === undefined) return new Netrc();
    try {
      return Netrc.parse(await Deno.readTextFile(path));
    } catch {
      return new Netrc();
    }
  }

  /** Parses netrc text: `machine`, `default`, `login`, `password`; `macdef` bodies skipped. */
  static parse(text: string): Netrc {
    const netrc = new Netrc();
    const tokens = tokenize(text);
    let current: { host: string | undefined; login: string; password: string } | undefined;
    const finish = () => {
      if (!current || (current.login === "" && current.password === "")) return;
      const login = { login: current.login, password: current.password };
      if (current.host === undefined) netrc.#default ??= login;
      else if (!netrc.#machines.has(current.host)) netrc.#machines.set(current.host, login);
    };
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (token === "machine" || token === "default") {
        finish();
        current = {
          host: token === "machine" ? tokens[++i]?.toLowerCase() ?? "" : undefined,
          login: "",
          password: "",
        };
      } else if (token === "login" && current) current.login = tokens[++i] ?? "";
      else if (token === "password" && current) current.password = tokens[++i] ?? "";
      else if (token === "account") i++;
    }
    finish();
    return netrc;
  }

  /** The Authorization header value for `hostname`, when the file has a login for it. */
  authorization(hostname: string): string | undefined {
    const login = this.#machines.get(hostname.toLowerCase()) ?? this.#default;
    if (!login) return undefined;
    const bytes = new TextEncoder().encode(`${login.login}:${login.password}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
}

/** Whitespace-separated tokens, `"quoted"` ones with `\` escapes; `macdef` bodies dropped. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    for (const match of line.matchAll(pattern)) {
      const token = match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]!;
      if (match[2]?.startsWith("#") && tokens.at(-1) !== "password") break; // a comment
      tokens.push(token);
      if (token === "macdef") {
        while (l + 1 < lines.length && lines[l + 1]!.trim() !== "") l++; // its body, to a blank line
        break;
      }
    }
  }
  return tokens;
}
