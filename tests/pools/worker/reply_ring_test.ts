import assert from "node:assert/strict";
import { ReplyRing } from "../../../lib/pools/worker/reply_ring.ts";

const bytes = (length: number, value: number) => new Uint8Array(length).fill(value);

function readAll(ring: ReplyRing): [number, number[]][] {
  const records: [number, number[]][] = [];
  ring.read((id, data) => void records.push([id, [...data]]));
  return records;
}

Deno.test("ReplyRing gives records back in order, across the end of its memory", () => {
  const buffer = ReplyRing.allocate(64);
  const writer = new ReplyRing(buffer);
  const reader = new ReplyRing(buffer);
  // 64 bytes: records of 8 + 8 bytes; the fourth wraps (or skips the end) each round.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3; i++) assert.ok(writer.write(round * 3 + i, bytes(5 + i, i)));
    assert.deepEqual(
      readAll(reader),
      [0, 1, 2].map((i) => [round * 3 + i, [...bytes(5 + i, i)]]),
    );
  }
});

Deno.test("ReplyRing refuses a record it has no room for, and takes it once read", () => {
  const buffer = ReplyRing.allocate(64);
  const writer = new ReplyRing(buffer);
  const reader = new ReplyRing(buffer);
  assert.equal(writer.largest, 8);
  assert.equal(writer.write(1, bytes(9, 1)), false, "over the largest");
  for (let id = 1; id <= 4; id++) assert.ok(writer.write(id, bytes(8, id)));
  assert.equal(writer.write(5, bytes(1, 5)), false, "full");
  assert.equal(readAll(reader).length, 4);
  assert.ok(writer.write(5, bytes(1, 5)));
  assert.deepEqual(readAll(reader), [[5, [5]]]);
  assert.deepEqual(readAll(reader), [], "nothing twice");
});

Deno.test("ReplyRing.read() stops after the record its reader refuses to go past", () => {
  const buffer = ReplyRing.allocate(64);
  const writer = new ReplyRing(buffer);
  const reader = new ReplyRing(buffer);
  for (const id of [1, 2, 3]) writer.write(id, bytes(1, id));
  const seen: number[] = [];
  assert.equal(reader.read((id) => (seen.push(id), id !== 2)), 2);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(readAll(reader), [[3, [3]]]);
});

Deno.test("ReplyRing calls its reader once until it answers", () => {
  const buffer = ReplyRing.allocate(64);
  const writer = new ReplyRing(buffer);
  const reader = new ReplyRing(buffer);
  assert.equal(writer.callReader(), true);
  assert.equal(writer.callReader(), false);
  reader.answerCall();
  assert.equal(writer.callReader(), true);
});

Deno.test("ReplyRing carries every record intact from a writer thread to a reader reading meanwhile", async () => {
  const count = 10_000;
  const buffer = ReplyRing.allocate(16 * 1024);
  const reader = new ReplyRing(buffer);
  const worker = new Worker(new URL("../../testdata/ring_writer.ts", import.meta.url), {
    type: "module",
  });
  try {
    const done = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage({ buffer, count });
    let next = 0;
    const check = (id: number, data: Uint8Array) => {
      assert.equal(id, next, "in order, none lost");
      assert.equal(data.byteLength, (id * 37) % 700);
      assert.ok(data.every((b) => b === id % 251), `record ${id} intact`);
      next++;
    };
    let finished = false;
    void done.then(() => finished = true);
    // Read while the writer writes (and waits for room): yield so its "done" can land.
    while (!finished) {
      reader.read(check);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    reader.read(check);
    assert.equal(next, count);
  } finally {
    worker.terminate();
  }
});

Deno.test("ReplyRing.allocate() wants a power of two", () => {
  assert.throws(() => ReplyRing.allocate(100), RangeError);
  assert.throws(() => ReplyRing.allocate(32), RangeError);
});
