/**
 * Checksum files, as every Linux mirror publishes them (`SHA256SUMS`, `SHA512SUMS`): GNU
 * coreutils lines (`<hex>  <name>`, `<hex> *<name>`) and BSD lines (`SHA256 (<name>) = <hex>`).
 * The digest's length says SHA-256 or SHA-512. Other lines (a PGP signature's armour, comments)
 * are passed over.
 *
 * @module
 */

/** One file's expected digest. */
export interface ListedDigest {
  algorithm: "sha256" | "sha512";
  /** Lowercase hex. */
  hex: string;
}

/** A name a checksum file lists twice, with two digests of one algorithm that differ. */
export class ChecksumConflict extends RangeError {
  override readonly name = "ChecksumConflict";
}

/** A parsed checksum file: digests by the name each line gives. */
export class ChecksumList {
  readonly #byName = new Map<string, ListedDigest>();
  readonly #byBaseName = new Map<string, ListedDigest | null>();
  /** The line each name was last listed on. */
  readonly #lines = new Map<string, number>();
  /** Names listed with two different digests of one algorithm, and where. */
  readonly #conflicts = new Map<string, string>();

  /** How many usable lines it has. */
  get size(): number {
    return this.#byName.size;
  }

  /** Adds line `line`'s digest. A name listed again keeps its SHA-512 over a SHA-256. */
  add(name: string, digest: ListedDigest, line = 0): void {
    const clean = name.replace(/^(\.\/)+/, "");
    const listed = this.#byName.get(clean);
    if (listed?.algorithm === digest.algorithm && listed.hex !== digest.hex) {
      this.#conflicts.set(
        clean,
        `lists ${clean} twice with different ${digest.algorithm} digests (lines ` +
          `${this.#lines.get(clean)} and ${line})`,
      );
    }
    if (listed?.algorithm === "sha512" && digest.algorithm === "sha256") return;
    this.#byName.set(clean, digest);
    this.#lines.set(clean, line);
    const base = clean.split("/").at(-1)!;
    const known = this.#byBaseName.get(base);
    // Two files of one name in different folders, with different digests: ambiguous.
    this.#byBaseName.set(
      base,
      known === undefined || (known !== null && known.hex === digest.hex) ? digest : null,
    );
  }

  /**
   * The digest listed for the first of `names` found: by the whole name a line gives, else by
   * its last path segment when that picks one digest.
   *
   * @throws {ChecksumConflict} when the name found is listed with two different digests
   */
  find(names: readonly string[]): ListedDigest | undefined {
    for (const name of names) {
      const conflict = this.#conflicts.get(name);
      if (conflict !== undefined) throw new ChecksumConflict(conflict);
      const digest = this.#byName.get(name) ?? this.#byBaseName.get(name.split("/").at(-1)!);
      if (digest) return digest;
    }
    return undefined;
  }
}

const GNU_LINE = /^\\?([0-9a-fA-F]{64}|[0-9a-fA-F]{128}) [ *](.+)$/;
const BSD_LINE = /^(SHA256|SHA512) ?\((.+)\) ?= ?([0-9a-fA-F]{64}|[0-9a-fA-F]{128})$/;

/**
 * Parses a checksum file's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChecksumFile } from "./checksum_file.ts";
 * const a = "a".repeat(64), b = "B".repeat(128);
 * const list = parseChecksumFile(`${a}  ./dist/one.iso\nSHA512 (two.tar) = ${b}\n# note\n`);
 * assert.equal(list.size, 2);
 * assert.deepEqual(list.find(["one.iso"]), { algorithm: "sha256", hex: a });
 * assert.deepEqual(list.find(["x", "two.tar"]), { algorithm: "sha512", hex: b.toLowerCase() });
 * assert.equal(list.find(["three"]), undefined);
 * ```
 */
export function parseChecksumFile(text: string): ChecksumList {
  const list = new ChecksumList();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const gnu = GNU_LINE.exec(line);
    if (gnu) {
      const hex = gnu[1]!.toLowerCase();
      const name = raw.startsWith("\\") ? unescapeGnu(gnu[2]!) : gnu[2]!;
      list.add(name, { algorithm: hex.length === 64 ? "sha256" : "sha512", hex }, index + 1);
      return;
    }
    const bsd = BSD_LINE.exec(line);
    if (bsd) {
      const hex = bsd[3]!.toLowerCase();
      const algorithm = hex.length === 64 ? "sha256" : "sha512";
      if (bsd[1]!.toLowerCase() === algorithm) list.add(bsd[2]!, { algorithm, hex }, index + 1);
    }
  });
  return list;
}

/** GNU escapes a name holding `\` or a newline and marks its line with a leading `\`. */
function unescapeGnu(name: string): string {
  return name.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}
