import assert from "node:assert/strict";
import { DownloadState, stateFilePath } from "../../../tasks/download/state.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("DownloadState saves thousands of records in pieces and reads every one back", async () => {
  await using dir = await tempDir();
  const state = await DownloadState.load(dir.path);
  const count = 2500; // three pieces of 1000
  for (let i = 0; i < count; i++) {
    // Names JSON must escape, and one that looks like the text around them.
    const path = i % 500 === 7 ? `files/"q\\uote",:${i}\n.bin` : `files/${i}.bin`;
    state.setFile(path, { url: `http://h/${i}`, bytes: i, mtimeMs: i * 1.5, etag: `"${i}"` });
  }
  state.setPart("files/x.bin.part", { url: "http://h/x", bytes: 3, validator: '"x"' });
  await state.save();
  JSON.parse(await Deno.readTextFile(stateFilePath(dir.path))); // one JSON text
  const back = await DownloadState.load(dir.path);
  for (let i = 0; i < count; i++) {
    const path = i % 500 === 7 ? `files/"q\\uote",:${i}\n.bin` : `files/${i}.bin`;
    assert.deepEqual(back.file(path), {
      url: `http://h/${i}`,
      bytes: i,
      mtimeMs: i * 1.5,
      etag: `"${i}"`,
    });
  }
  assert.equal(back.part("files/x.bin.part")?.bytes, 3);
  assert.equal(back.file("files/2500.bin"), undefined);
});

Deno.test("DownloadState saves an empty state as one that reads back empty", async () => {
  await using dir = await tempDir();
  const state = await DownloadState.load(dir.path);
  state.setPart("a.part", undefined); // nothing to forget: nothing changed
  await state.save();
  await assert.rejects(Deno.stat(stateFilePath(dir.path)), Deno.errors.NotFound);
  state.setFile("a", { url: "http://h/a", bytes: 1, mtimeMs: 1 });
  state.setFile("a", { url: "http://h/a", bytes: 1, mtimeMs: 1 });
  await state.save();
  assert.deepEqual(JSON.parse(await Deno.readTextFile(stateFilePath(dir.path))), {
    version: 1,
    files: { a: { url: "http://h/a", bytes: 1, mtimeMs: 1 } },
    parts: {},
  });
});
