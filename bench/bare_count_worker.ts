/**
 * A bare Worker for `bench/bare_cpu.ts`: counts to each number it is sent and answers.
 *
 * @module
 */
import count from "../tasks/compute/builtin/count.ts";

self.onmessage = (event: MessageEvent<number>) => self.postMessage(count(event.data));
