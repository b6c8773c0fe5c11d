// A Worker that writes `count` records into a reply ring, as a Worker host's thread does: record
// i holds (i * 37) % 700 bytes, each of value i % 251. When the ring is full it waits for room
// (writeWaiting); it posts "done" at the end.
import { ReplyRing } from "../../lib/pools/worker/reply_ring.ts";

self.onmessage = (event: MessageEvent<{ buffer: SharedArrayBuffer; count: number }>) => {
  const { buffer, count } = event.data;
  const ring = new ReplyRing(buffer);
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array((i * 37) % 700).fill(i % 251);
    ring.writeWaiting(i, bytes);
  }
  self.postMessage("done");
};
