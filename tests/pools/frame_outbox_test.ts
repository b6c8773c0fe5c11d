import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FrameOutbox } from "../../lib/pools/frame_outbox.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("FrameOutbox writes one turn's frames as one block, in order", async () => {
  const blocks: number[][] = [];
  const outbox = new FrameOutbox((block) => void blocks.push([...block]));
  outbox.push(bytes(1));
  outbox.push(bytes(2, 3));
  outbox.push(bytes(4));
  assert.deepEqual(blocks, [], "nothing is written within the turn");
  await outbox.flushed();
  assert.deepEqual(blocks, [[1, 2, 3, 4]]);
  outbox.push(bytes(5));
  await outbox.flushed();
  assert.deepEqual(blocks, [[1, 2, 3, 4], [5]]);
});

Deno.test("FrameOutbox gathers what comes while an asynchronous write is in flight", async () => {
  const blocks: number[][] = [];
  const writes: PromiseWithResolvers<void>[] = [];
  const outbox = new FrameOutbox((block) => {
    blocks.push([...block]);
    const write = Promise.withResolvers<void>();
    writes.push(write);
    return write.promise;
  });
  outbox.push(bytes(1));
  while (writes.length === 0) await new Promise((resolve) => setImmediate(resolve));
  outbox.push(bytes(2));
  outbox.push(bytes(3));
  writes[0]!.resolve();
  while (writes.length === 1) await new Promise((resolve) => setImmediate(resolve));
  writes[1]!.resolve();
  await outbox.flushed();
  assert.deepEqual(blocks, [[1], [2, 3]]);
});

Deno.test("FrameOutbox drops everything after a failed write, and says it is done", async () => {
  let calls = 0;
  const outbox = new FrameOutbox(() => {
    calls++;
    return Promise.reject(new Error("broken pipe"));
  });
  outbox.push(bytes(1));
  await outbox.flushed();
  outbox.push(bytes(2));
  await outbox.flushed();
  assert.equal(calls, 1, "a broken channel is not written again");
});
