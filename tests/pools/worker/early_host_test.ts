import assert from "node:assert/strict";
import {
  dropSpareHost,
  HOST_ENTRY,
  type HostSpawn,
  startSpareHost,
} from "../../../lib/pools/worker/early_host.ts";
import { HostProcess } from "../../../lib/pools/worker/process_link.ts";
import type { HostMessage } from "../../../lib/pools/protocol.ts";
import { cmdline, descendantsOf, survivorsOf } from "../../helpers/processes.ts";
import { tempDir } from "../../helpers/temp.ts";

/** taskpool's folder, which a host reads its modules from. */
const ROOT = new URL("../../..", import.meta.url).pathname;

/** The flags of a host that may read `dir`. */
const readFlags = (dir: string) => [`--allow-read=${ROOT},${dir}`];

/** This process's Worker host processes started with read access to `dir`. */
function hostsOf(dir: string): number[] {
  return descendantsOf(Deno.pid).filter((pid) => {
    const line = cmdline(pid);
    return line.includes("host_main") && line.includes(`--allow-read=${ROOT},${dir}`);
  });
}

/** The pid of the host of `dir`, once its command line reads (it is empty between fork and exec). */
async function hostStarted(dir: string): Promise<number> {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const [pid] = hostsOf(dir);
    if (pid !== undefined) return pid;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no Worker host of ${dir} started`);
}

/** A host that says its memory once it runs: resolves with it, ready to be closed. */
async function openHost(spawn: HostSpawn) {
  const said = Promise.withResolvers<HostMessage>();
  const host = new HostProcess({
    entry: HOST_ENTRY,
    flags: spawn.flags,
    size: spawn.size,
    firstMemoryMb: undefined,
    onMessage: (message) => said.resolve(message),
  });
  assert.ok("rss" in await said.promise);
  return host;
}

Deno.test("a Worker host started early is the one the pool gets when it asks with the same arguments", async () => {
  await using dir = await tempDir();
  const spawn = { flags: readFlags(dir.path), size: 1 };
  startSpareHost(JSON.stringify(spawn));
  const early = await hostStarted(dir.path);
  const host = await openHost(spawn);
  assert.deepEqual(hostsOf(dir.path), [early], "no second host");
  host.kill();
  await host.exited;
  assert.deepEqual(await survivorsOf([early]), []);
});

Deno.test("a Worker host started early with other arguments is killed when the pool asks for its own", async () => {
  await using dir = await tempDir();
  await using other = await tempDir();
  startSpareHost(JSON.stringify({ flags: readFlags(other.path), size: 1 }));
  const early = await hostStarted(other.path);
  const host = await openHost({ flags: readFlags(dir.path), size: 1 });
  assert.deepEqual(await survivorsOf([early]), [], "the early host is killed");
  assert.equal(hostsOf(dir.path).length, 1);
  host.kill();
  await host.exited;
});

Deno.test("a Worker host started early for a run that asks for none is killed at its end", async () => {
  await using dir = await tempDir();
  startSpareHost(JSON.stringify({ flags: readFlags(dir.path), size: 2 }));
  const early = await hostStarted(dir.path);
  await dropSpareHost();
  assert.deepEqual(await survivorsOf([early]), []);
});

Deno.test("a host record that asks for more than permissions starts nothing", async () => {
  await using dir = await tempDir();
  for (
    const flags of [
      [...readFlags(dir.path), "--preload=/tmp/evil.ts"],
      [...readFlags(dir.path), "--v8-flags=--expose-gc"],
      [...readFlags(dir.path), "--allow-all"],
    ]
  ) {
    startSpareHost(JSON.stringify({ flags, size: 1 }));
  }
  startSpareHost("{not json");
  // Nothing was spawned, so nothing is there to drop.
  assert.deepEqual(hostsOf(dir.path), []);
  await dropSpareHost();
});
