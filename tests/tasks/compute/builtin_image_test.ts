/**
 * builtin:image on real files: PNG (8-bit, 16-bit, indexed) and JPEG decoded by the npm
 * libraries, scaled with a box filter, and its refusals.
 */
import { decode, encode } from "fast-png";
import jpeg from "jpeg-js";
import assert from "node:assert/strict";
import { makePng } from "../../../lib/demo/album_server.ts";
import { histogram, scaleToFit, thumbnail } from "../../../tasks/compute/builtin/image.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("thumbnail() fits an album PNG in the square, keeps the aspect ratio, never upscales", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, makePng(60_000, 3)); // about 141 x 141
  const context = { output: dir.path, job: "t" };
  const small = decode(await thumbnail(32, "a.png", context));
  assert.deepEqual([small.width, small.height, small.channels], [32, 32, 3]);
  const original = decode(await Deno.readFile(`${dir.path}/a.png`));
  const same = decode(await thumbnail(4096, "a.png", context));
  assert.deepEqual([same.width, same.height], [original.width, original.height]);
  const byDefault = decode(await thumbnail("a.png", context));
  assert.equal(byDefault.width, Math.min(128, original.width));

  // 40 x 10 RGB, scaled to 4 x 1: aspect kept, each pixel the mean of a 10 x 10 block.
  const wide = new Uint8Array(40 * 10 * 3).map((_, i) => Math.floor((i / 3) % 40 / 10) * 60);
  await Deno.writeFile(
    `${dir.path}/wide.png`,
    encode({ width: 40, height: 10, data: wide, channels: 3 }),
  );
  const scaled = decode(await thumbnail(4, "wide.png", context));
  assert.deepEqual([scaled.width, scaled.height], [4, 1]);
  assert.deepEqual([...scaled.data], [0, 0, 0, 60, 60, 60, 120, 120, 120, 180, 180, 180]);
});

Deno.test("scaleToFit() averages blocks of odd sizes without losing the edges", () => {
  const data = new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90]); // 3 x 3 grey
  const out = scaleToFit({ width: 3, height: 3, channels: 1, data }, 2);
  assert.deepEqual([out.width, out.height], [2, 2]);
  assert.deepEqual([...out.data], [10, 25, 55, 70]);
});

Deno.test("histogram() reads 8-bit, 16-bit and indexed PNGs and JPEGs", async () => {
  await using dir = await tempDir();
  const context = { output: dir.path, job: "h" };
  const grey16 = new Uint16Array(4 * 4).fill(0x8000);
  await Deno.writeFile(
    `${dir.path}/g16.png`,
    encode({ width: 4, height: 4, data: grey16, depth: 16, channels: 1 }),
  );
  const g16 = await histogram("g16.png", context);
  assert.deepEqual([g16.format, g16.width, g16.channels, g16.mean], ["png", 4, 1, [128]]);
  assert.equal(g16.histogram[0]![8], 16);

  const indexed = new Uint8Array([0b00011011]); // 4 pixels of 2 bits: 0, 1, 2, 3
  const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
  await Deno.writeFile(
    `${dir.path}/p.png`,
    encode({ width: 4, height: 1, data: indexed, depth: 2, channels: 1, palette }),
  );
  const p = await histogram("p.png", context);
  assert.deepEqual([p.channels, p.mean], [3, [127.5, 127.5, 127.5]]);

  const rgba = new Uint8Array(16 * 16 * 4).fill(200);
  const jpg = jpeg.encode({ width: 16, height: 16, data: rgba }, 95);
  await Deno.writeFile(`${dir.path}/j.jpg`, jpg.data);
  const j = await histogram("j.jpg", context);
  assert.deepEqual([j.format, j.width, j.height, j.channels], ["jpeg", 16, 16, 3]);
  for (const mean of j.mean) assert.ok(Math.abs(mean - 200) <= 2, `mean ${mean}`);
});

Deno.test("builtin:image refuses paths outside the output, non-images and bad sizes", async () => {
  await using dir = await tempDir();
  const context = { output: `${dir.path}/out`, job: "x" };
  await Deno.mkdir(context.output);
  await Deno.writeTextFile(`${dir.path}/out/notes.txt`, "not an image");
  await assert.rejects(histogram("../secret.png", context), /only under the output folder/);
  await assert.rejects(histogram("notes.txt", context), /neither a PNG nor a JPEG/);
  await assert.rejects(thumbnail(0, "notes.txt", context), /1-4096: got 0/);
  await assert.rejects(thumbnail(64, "a.png", "b.png", context), /\(\[side,\] path\): got 3/);
});
