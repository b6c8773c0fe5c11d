import assert from "node:assert/strict";
import * as node from "node:path";
import * as ours from "../../lib/util/posix_path.ts";

/** Paths that have tripped path libraries: roots, dots, repeated and trailing slashes. */
const TRICKY = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///",
  "a",
  "a/",
  "/a",
  "//a",
  "///a",
  "a//b",
  "/a//b",
  "a/./b",
  "a/../b",
  "../a",
  "../../a/b",
  "a/..",
  "a/../",
  "./",
  "/..",
  "/../a",
  "a/b/c/../../..",
  "a/b/../../..",
  "/a/b/",
  "/a/b//",
  ".a",
  "a.",
  "..a",
  "a..",
  "/a/.b",
  "a b/c d",
  "ä/ö",
];

/** Random paths from names, dots and slashes: the same seed gives the same cases. */
function randomPaths(count: number, seed = 7): string[] {
  const parts = ["a", "bc", ".", "..", "", "/", "//", ".x"];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * 6);
    let path = next() < 0.4 ? "/" : "";
    for (let index = 0; index < length; index++) {
      path += parts[Math.floor(next() * parts.length)] + (next() < 0.7 ? "/" : "");
    }
    return path;
  });
}

const CASES = [...TRICKY, ...randomPaths(400)];

Deno.test("normalize, dirname, basename and isAbsolute give node:path's posix results", () => {
  for (const path of CASES) {
    assert.equal(ours.normalize(path), node.posix.normalize(path), `normalize(${path})`);
    assert.equal(ours.dirname(path), node.posix.dirname(path), `dirname(${path})`);
    assert.equal(ours.basename(path), node.posix.basename(path), `basename(${path})`);
    assert.equal(ours.isAbsolute(path), node.posix.isAbsolute(path), `isAbsolute(${path})`);
  }
});

Deno.test("join, resolve and relative give node:path's posix results", () => {
  for (let index = 0; index + 2 < CASES.length; index++) {
    const [a, b, c] = [CASES[index]!, CASES[index + 1]!, CASES[index + 2]!];
    assert.equal(ours.join(a, b, c), node.posix.join(a, b, c), `join(${a}, ${b}, ${c})`);
    assert.equal(ours.resolve(a, b), node.posix.resolve(a, b), `resolve(${a}, ${b})`);
    assert.equal(ours.relative(a, b), node.posix.relative(a, b), `relative(${a}, ${b})`);
  }
  assert.equal(ours.join(), node.posix.join());
  assert.equal(ours.resolve(), node.posix.resolve());
  assert.equal(ours.sep, node.posix.sep);
  assert.equal(ours.delimiter, node.posix.delimiter);
});

Deno.test("fileUrl gives node:url's pathToFileURL for absolute paths", async () => {
  const { pathToFileURL } = await import("node:url");
  const { fileUrl } = await import("../../lib/util/own_files.ts");
  for (
    const path of [
      "/a/b.ts",
      "/a b/c.ts",
      "/%41/x",
      "/a#b?c/d.ts",
      "/back\\slash",
      "/tab\tnew\nline\rx",
      "/ä/ö ü",
      "/a/./b/../c",
      "/dir/",
      "/[x]{y}|z^`'\"<>;~",
      "/" + Array.from({ length: 95 }, (_, code) => String.fromCharCode(code + 32)).join(""),
      "/\x01\x7f\u00a0\u2028",
    ]
  ) {
    assert.equal(fileUrl(path).href, pathToFileURL(path).href, path);
  }
});
