import assert from "node:assert/strict";
import { IdleTimeoutError } from "../../../tasks/download/errors.ts";
import { IdleWatchdog } from "../../../tasks/download/idle_watchdog.ts";

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason)));
}

Deno.test("IdleWatchdog aborts with IdleTimeoutError when fed too little", async () => {
  using watchdog = new IdleWatchdog(30, { minBytes: 1024 });
  watchdog.feed(1023); // below minBytes: not progress
  const reason = await aborted(watchdog.signal);
  assert.ok(reason instanceof IdleTimeoutError);
  assert.match(reason.message, /only 1023 bytes in/);
});

Deno.test("IdleWatchdog follows its parent signal, with the parent's reason", () => {
  const parent = new AbortController();
  using watchdog = new IdleWatchdog(60_000, { signal: parent.signal });
  const reason = new Error("run cancelled");
  parent.abort(reason);
  assert.equal(watchdog.signal.aborted, true);
  assert.equal(watchdog.signal.reason, reason);
});

Deno.test("IdleWatchdog starts aborted under an aborted parent, and lets go of it when disposed", () => {
  const reason = new Error("already");
  const early = new IdleWatchdog(60_000, { signal: AbortSignal.abort(reason) });
  assert.equal(early.signal.reason, reason);
  early[Symbol.dispose]();

  const parent = new AbortController();
  const watchdog = new IdleWatchdog(60_000, { signal: parent.signal });
  watchdog[Symbol.dispose]();
  parent.abort();
  assert.equal(watchdog.signal.aborted, false);
});
