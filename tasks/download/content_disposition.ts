/**
 * The file name a server suggests in `Content-Disposition` (RFC 6266), as `curl -J` and wget
 * `--content-disposition` use it: `filename*=UTF-8''...` before `filename=...`, reduced to a
 * plain name that stays in the target's folder.
 *
 * @module
 */

/**
 * The safe file name in a `Content-Disposition` header, or undefined when it has none that is
 * usable: no folders, no control characters, no leading dots, at most 255 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispositionFileName } from "./content_disposition.ts";
 * assert.equal(dispositionFileName('attachment; filename="report 1.pdf"'), "report 1.pdf");
 * assert.equal(dispositionFileName("attachment; filename*=UTF-8''na%C3%AFve.txt"), "naïve.txt");
 * assert.equal(dispositionFileName('attachment; filename="../../etc/passwd"'), "passwd");
 * assert.equal(dispositionFileName('attachment; filename=".."'), undefined);
 * // Control characters go, C1 ones (U+0080-U+009F) too: a terminal may act on them.
 * assert.equal(dispositionFileName("attachment; filename*=UTF-8''a%0Ab%1B%C2%85c.txt"), "abc.txt");
 * assert.equal(dispositionFileName("inline"), undefined);
 * ```
 */
export function dispositionFileName(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  let name: string | undefined;
  if (extended) {
    try {
      const charset = extended[1]!.trim().toLowerCase();
      const raw = extended[2]!.trim();
      name = charset === "utf-8"
        ? decodeURIComponent(raw)
        : raw.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
          String.fromCharCode(parseInt(hex, 16)));
    } catch {
      name = undefined;
    }
  }
  if (name === undefined) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(header);
    if (!plain) return undefined;
    name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2]!.trim();
  }
  return safeName(name);
}

function safeName(name: string): string | undefined {
  // deno-lint-ignore no-control-regex
  let clean = name.split(/[\\/]/).at(-1)!.replace(/[\x00-\x1f\x7f-\x9f]/g, "").trim();
  clean = clean.replace(/^\.+/, "");
  if (clean === "" || new TextEncoder().encode(clean).length > 255) return undefined;
  return clean;
}
