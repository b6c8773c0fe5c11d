import assert from "node:assert/strict";
import { encodeFrame, FrameError, readFrames } from "../../lib/pools/frames.ts";

/** The frames of `values`, written in pieces of `piece` bytes, read back. */
async function roundTrip(values: unknown[], piece = 7): Promise<unknown[]> {
  const bytes = new Uint8Array(values.flatMap((value) => [...encodeFrame(value)]));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += piece) {
        controller.enqueue(bytes.slice(at, at + piece));
      }
      controller.close();
    },
  });
  return await Array.fromAsync(readFrames(stream));
}

Deno.test("frames carry JSON-exact values as JSON text, split anywhere", async () => {
  const values = [
    { id: 1, task: { module: "builtin:count", args: [1, "two", true, null, { deep: [[]] }] } },
    [1.5, -2, "é ✓"],
    "text",
    0,
  ];
  for (const value of values) {
    const body = encodeFrame(value).subarray(4);
    assert.notEqual(body[0], 0xff, `${JSON.stringify(value)} goes as JSON`);
  }
  assert.deepEqual(await roundTrip(values), values);
});

Deno.test("frames carry what JSON would change as a structured clone, unchanged", async () => {
  class Point {
    constructor(public x: number) {}
  }
  // deno-lint-ignore no-sparse-arrays
  const sparse = [1, , 3];
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  const values = [
    { result: undefined },
    { zero: -0 },
    [NaN, Infinity],
    { when: new Date(0) },
    new Map([["a", 1]]),
    { bytes: new Uint8Array([1, 2, 3]) },
    sparse,
    new Point(1),
    deep,
    undefined,
  ];
  for (const value of values) assert.equal(encodeFrame(value)[4], 0xff);
  const back = await roundTrip(values);
  assert.deepEqual(back.slice(0, 7), values.slice(0, 7));
  assert.equal(Object.is((back[1] as { zero: number }).zero, -0), true);
  assert.equal(1 in (back[6] as unknown[]), false, "the hole stays a hole");
  assert.deepEqual(back[7], { x: 1 }, "a class instance arrives as its fields");
  assert.deepEqual(back[8], deep);
  assert.equal(back[9], undefined);
});

Deno.test("readFrames refuses a stream that ends inside a frame or carries stray text", async () => {
  const cut = encodeFrame({ id: 1 }).subarray(0, 6);
  await assert.rejects(Array.fromAsync(readFrames(ReadableStream.from([cut]))), FrameError);
  const stray = new TextEncoder().encode("Hello from a module that printed to stdout\n");
  await assert.rejects(Array.fromAsync(readFrames(ReadableStream.from([stray]))), FrameError);
});

Deno.test("readFrames reads a reader (a host's stdin) into one reused buffer, frames split across reads", async () => {
  const values = [{ id: 1 }, { big: "x".repeat(200_000) }, { bytes: new Uint8Array([9, 8]) }, [2]];
  const bytes = new Uint8Array(values.flatMap((value) => [...encodeFrame(value)]));
  let at = 0;
  let reads = 0;
  const reader = {
    read(into: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(into.length, 1 + (reads++ * 7919) % 70_000, bytes.length - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
  assert.deepEqual(await Array.fromAsync(readFrames(reader)), values);
});

Deno.test("readFrames gathers a frame longer than a read in place, between small frames in the same reads", async () => {
  // A compute job's 50 MB of bytes comes from its host this way: it took a minute while each
  // read was joined to all the frame's bytes before it.
  const values = [
    { a: 1 },
    new Uint8Array(3_000_000).fill(7),
    { s: "y".repeat(150_000) },
    { b: 2 },
    new Uint8Array(70_000).fill(3),
  ];
  for (const piece of [65_536, 99_991, 1_000_000]) {
    assert.deepEqual(await roundTrip(values, piece), values);
  }
  const cut = encodeFrame(new Uint8Array(200_000)).subarray(0, 100_000);
  await assert.rejects(
    Array.fromAsync(
      readFrames(ReadableStream.from([cut.subarray(0, 70_000), cut.subarray(70_000)])),
    ),
    /ended inside a frame/,
  );
});
