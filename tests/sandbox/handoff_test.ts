/**
 * The launcher's handoff to its child: a plan goes as JSON (undefined fields left out), anything
 * JSON cannot carry as a structured clone, and the child reads either with plain reads.
 */
import assert from "node:assert/strict";
import { encodeFrame } from "../../lib/pools/frames.ts";
import { readHandoff } from "../../lib/sandbox/relaunch.ts";
import { RUN } from "../../lib/cli/run.ts";
import { KINDS } from "../../tasks/mod.ts";
import { tempDir } from "../helpers/temp.ts";

const relaunchUrl = new URL("../../lib/sandbox/relaunch.ts", import.meta.url).href;

/** A reader over `bytes` that hands them out `step` at a time, as a pipe may. */
function readerOf(bytes: Uint8Array, step: number) {
  let at = 0;
  return {
    read(into: Uint8Array): Promise<number | null> {
      if (at >= bytes.byteLength) return Promise.resolve(null);
      const n = Math.min(step, into.byteLength, bytes.byteLength - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

Deno.test("a plan with undefined fields goes as JSON and comes back without them", async () => {
  const plan = { jobs: [{ name: "a", timeoutMs: undefined, retries: 2 }], shard: undefined };
  const frame = encodeFrame({ handoff: plan }, { dropUndefined: true });
  assert.equal(frame[4], "{".charCodeAt(0)); // JSON, not a structured clone
  const read = await readHandoff(readerOf(frame, 3));
  assert.deepEqual(read, { jobs: [{ name: "a", retries: 2 }] });
});

Deno.test("what JSON cannot carry comes back as a structured clone", async () => {
  const handoff = { limit: Infinity, at: new Date(0), sizes: new Map([["a", 1]]) };
  const frame = encodeFrame({ handoff }, { dropUndefined: true });
  assert.equal(frame[4], 0xff); // a V8 structured clone
  assert.deepEqual(await readHandoff(readerOf(frame, 5)), handoff);
});

Deno.test("a launcher that dies before its frame is whole hands over nothing", async () => {
  const frame = encodeFrame({ handoff: { plan: "x".repeat(100) } });
  assert.equal(await readHandoff(readerOf(frame.subarray(0, 50), 7)), undefined);
  assert.equal(await readHandoff(readerOf(new Uint8Array(0), 7)), undefined);
});

Deno.test("a run hands its child the kinds of the jobs it selected, and only those", async () => {
  await using dir = await tempDir();
  await dir.write(
    "jobs.yaml",
    [
      "jobs:",
      "  - { name: get, download: { url: 'http://127.0.0.1:9/x', to: x.bin } }",
      "  - { name: hello, run: [echo, hi] }",
      "  - { name: sum, compute: { module: 'builtin:count', args: [1] } }",
    ].join("\n"),
  );
  const io = { stdout: () => {}, stderr: () => {}, stderrIsTty: false, color: false };
  const prepare = (...args: string[]) => RUN.prepare([`${dir.path}/jobs.yaml`, ...args], io, KINDS);
  assert.deepEqual((await prepare()).kinds?.toSorted(), ["compute", "download", "run"]);
  assert.deepEqual((await prepare("--only", "hello")).kinds, ["run"]);
});

Deno.test("the child gets the handoff and the kinds from the launcher's frame", async () => {
  const script = `
    import { receiveFromLauncher } from ${JSON.stringify(relaunchUrl)};
    const { handoff, kinds } = receiveFromLauncher(() => {}, () => Deno.exit(3));
    console.log(JSON.stringify({ handoff: await handoff, kinds: await kinds }));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    encodeFrame({ handoff: { plan: 1 }, kinds: ["run"] }, { dropUndefined: true }),
  );
  await writer.close();
  const { code, stdout } = await child.output();
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
    handoff: { plan: 1 },
    kinds: ["run"],
  });
});
