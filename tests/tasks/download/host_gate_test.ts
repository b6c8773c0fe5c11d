import assert from "node:assert/strict";
import { HostGate } from "../../../tasks/download/host_gate.ts";

Deno.test("HostGate halves a host's limit on 429, pauses it, and earns the limit back", () => {
  let now = 0;
  const gate = new HostGate({ limit: 4, now: () => now });
  let opened = 0;
  gate.onOpen(() => opened++);
  try {
    gate.throttle("h:1", 1000);
    assert.equal(gate.limitOf("h:1"), 2);
    assert.equal(gate.tryEnter("h:1"), false, "paused");
    assert.equal(gate.tryEnter("other:1"), true, "other hosts are not paused");
    now = 1000;
    assert.equal(gate.tryEnter("h:1"), true);
    assert.equal(gate.tryEnter("h:1"), true);
    assert.equal(gate.tryEnter("h:1"), false, "the halved limit holds");
    gate.leave("h:1");
    gate.leave("h:1");
    gate.succeeded("h:1");
    gate.succeeded("h:1");
    assert.equal(gate.limitOf("h:1"), 3, "one more after a round of successes");
    for (let i = 0; i < 3; i++) gate.succeeded("h:1");
    assert.equal(gate.limitOf("h:1"), 4);
    gate.succeeded("h:1");
    assert.equal(gate.limitOf("h:1"), 4, "never above the configured limit");
  } finally {
    gate.close();
  }
});

Deno.test("HostGate wakes the scheduler when a pause ends", async () => {
  const gate = new HostGate({ limit: 1 });
  const { promise, resolve } = Promise.withResolvers<void>();
  gate.onOpen(resolve);
  gate.pause("h:1", 10);
  assert.equal(gate.tryEnter("h:1"), false);
  await promise;
  assert.equal(gate.tryEnter("h:1"), true);
  gate.close();
});
