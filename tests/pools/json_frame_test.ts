import assert from "node:assert/strict";
import { jsonFrame } from "../../lib/pools/json_frame.ts";

const decoder = new TextDecoder();

/** The frame's length header, and its body as text. */
function open(frame: Uint8Array<ArrayBuffer>): { length: number; text: string } {
  return {
    length: new DataView(frame.buffer).getUint32(0),
    text: decoder.decode(frame.subarray(4)),
  };
}

Deno.test("jsonFrame: a plan of many jobs is framed piece by piece to the very text JSON.stringify gives", () => {
  for (const count of [199_999, 200_000]) {
    const jobs = Array.from({ length: count }, (_, i) => ({
      name: i % 40_000 === 3 ? `café/${i} 😀` : `get/${i}.bin`,
      url: `http://h/${i}`,
      ...(i % 3 === 0 ? { sha256: undefined } : { size: i }),
      needs: i % 50_000 === 0 ? [] : ["a", "b"],
    }));
    const message = {
      handoff: { plan: { file: "jobs.yaml", shard: undefined, concurrency: { io: 64 } }, jobs },
    };
    const frame = jsonFrame(message, { dropUndefined: true })!;
    const { length, text } = open(frame);
    assert.equal(length, frame.byteLength - 4);
    assert.equal(text, JSON.stringify(message));
    assert.deepEqual(JSON.parse(text).handoff.jobs.length, count);
  }
});

Deno.test("jsonFrame: values JSON would not give back stay unframed, long arrays or not", () => {
  const holes = new Array(200_000);
  holes[5] = 1;
  assert.equal(jsonFrame({ jobs: holes }), undefined);
  assert.equal(jsonFrame({ jobs: Array.from({ length: 200_000 }, () => NaN) }), undefined);
  assert.equal(
    jsonFrame({ jobs: Array.from({ length: 200_000 }, () => ({ a: undefined })) }),
    undefined,
  );
});
