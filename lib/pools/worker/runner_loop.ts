/**
 * What a runner thread does, whatever its kind (see {@linkcode ./runner_thread.ts}): where a
 * compute task runs in `isolation: worker` and `thread`, with the host's (the job's) permissions
 * and, if the job asks, its own heap cap. The thread's entry module
 * ({@linkcode ./web_runner.ts} for a web Worker, {@linkcode ./node_runner.ts} for a
 * `node:worker_threads` one) calls {@linkcode startRunner} and hands it the setup its host sends
 * first. A task that calls `Deno.exit` (or `process.exit`, or `close`) ends this thread, after it
 * has told the host how: a web Worker's end is not seen otherwise.
 *
 * Tasks arrive on a message port, a batch at a time, and run one after another in the order they
 * came. Before a task starts, the thread claims it in the task states it shares with the host
 * (slot `slot`: `id` becomes `-id`); a task the host took back meanwhile (the slot no longer
 * holds `id`) is skipped. Replies go into the thread's {@linkcode ReplyRing | reply ring}, which
 * the host reads when it likes: the thread posts no message per task, and asks the host to read
 * only when it runs low on tasks or has not asked for {@linkcode CALL_EVERY_MS}. The next task
 * is claimed before the reply before it is written, so a host that reads a reply knows whether
 * the next task has started.
 * A reply the ring cannot take (bytes, or too big) is posted, with an empty record in its place
 * in the ring: the host reads no further until the posted reply has come.
 * An error thrown outside a task's call (in a timer, say) is reported as the thread's death
 * under the current task, and the host retires the thread.
 *
 * @module
 */
import { ReplyRing } from "./reply_ring.ts";
import {
  claimTask,
  type RunnerMessage,
  type RunnerReply,
  type RunnerSetup,
  type RunnerTask,
} from "../protocol.ts";
import { callLoaded, callTask } from "../call_task.ts";
import { consoleToStderr } from "../console_to_stderr.ts";
import { hideStdin } from "../empty_stdin.ts";
import type { Immediate } from "./immediate.ts";

let current = 0;
let port: MessagePort | undefined;
const encoder = new TextEncoder();
/**
 * Quick tasks run one after another in one immediate for up to this long, with no turn of the
 * event loop between them; then the thread lets its messages in.
 */
const SLICE_MS = 5;
/** The record that holds a posted reply's place in the ring. */
const POSTED = new Uint8Array(0);
/**
 * A thread asks its host to read at least this often while it writes replies, so a reply is
 * read at once after a long task, and within this long after a quick one; the host need not
 * poll the rings often, which would take time from every core.
 */
const CALL_EVERY_MS = 2;

function died(error: unknown): void {
  const { message = String(error), stack } = error instanceof Error ? error : {};
  post({ id: current, died: "error", message, ...(stack ? { stack } : {}) });
}

function post(message: RunnerMessage): void {
  port?.postMessage(message);
}

/**
 * Makes this thread a runner: its console goes to stderr, and an exit or an error outside a task
 * is reported to the host. Returns what starts serving tasks, given the host's setup; call it
 * once. Quick tasks run in slices of up to {@linkcode SLICE_MS}, each slice in an `immediate`.
 *
 * @example
 * ```ts ignore
 * import { channelImmediate } from "./immediate.ts";
 * import { startRunner } from "./runner_loop.ts";
 * const begin = startRunner(channelImmediate());
 * self.addEventListener("message", (event) => begin(event.data), { once: true });
 * ```
 */
export function startRunner(immediate: Immediate): (setup: RunnerSetup) => void {
  consoleToStderr();
  hideStdin();
  // The host learns of an exit from here: it would not from a web Worker's end.
  const exit = Deno.exit;
  Deno.exit = (code?: number): never => {
    post({ id: current, died: "exit", code: code ?? 0 });
    return exit(code);
  };
  globalThis.close = () => {
    post({ id: current, died: "error", message: "the task called close()" });
    exit(0);
  };

  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    died(event.error);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    died(event.reason);
  });
  return (setup) => begin(setup, immediate);
}

function begin(setup: RunnerSetup, immediate: Immediate): void {
  port = setup.port;
  const states = new Int32Array(setup.states);
  const ring = new ReplyRing(setup.replies);
  const queue: RunnerTask[] = [];
  let running = false;
  /** Replies written since the host was last asked to read. */
  let unread = 0;
  /** When the host was last asked to read. */
  let calledAt = 0;

  /** The next task of the queue, claimed; those the host took back are skipped. */
  const claimNext = (): RunnerTask | undefined => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      if (claimTask(states, task.slot, task.id)) return task;
    }
    return undefined;
  };
  /** `reply` to the host; `holding`: tasks this thread still holds, the running one included. */
  const send = (reply: RunnerReply, holding: number) => {
    const bytes = "ok" in reply && !(reply.ok && reply.value instanceof Uint8Array)
      ? encoder.encode(JSON.stringify(reply))
      : undefined;
    if (!bytes || !ring.write(reply.id, bytes)) {
      // In its place, an empty record: the host waits for it before it reads on.
      ring.writeWaiting(reply.id, POSTED);
      return post(reply);
    }
    // Empty, it needs work now; low, it needs some soon, but a call per reply would cost more
    // than the tasks: so only once it has written as many replies as it may run short of, or
    // once CALL_EVERY_MS have passed since the last call.
    unread++;
    if (
      holding > 0 && (holding > setup.callAt || unread < setup.callAt) &&
      performance.now() - calledAt < CALL_EVERY_MS
    ) return;
    if (ring.callReader()) {
      unread = 0;
      calledAt = performance.now();
      post({ read: true });
    }
  };
  /** Claims the next task, then sends `reply` (so the host learns of both); returns that task. */
  const answer = (reply: RunnerReply): RunnerTask | undefined => {
    const next = claimNext();
    send(reply, queue.length + (next ? 1 : 0));
    return next;
  };
  /** Runs `task` and those after it, a slice of quick ones per immediate (see callLoaded). */
  const runFrom = (task: RunnerTask | undefined) => {
    running = task !== undefined;
    if (task) immediate(() => runSlice(task));
  };
  const runSlice = (first: RunnerTask) => {
    const until = performance.now() + SLICE_MS;
    for (let task: RunnerTask | undefined = first; task;) {
      current = task.id;
      const reply = callLoaded(task.id, task);
      if (reply === undefined || reply instanceof Promise) {
        // Its module is still to load, or it returned a promise: the slice ends here.
        const ran = task;
        void (reply ?? callTask(ran.id, ran, immediate)).then((reply) => runFrom(answer(reply)));
        return;
      }
      task = answer(reply);
      if (task && performance.now() >= until) return runFrom(task);
    }
    running = false;
  };
  port.onmessage = (event: MessageEvent<RunnerTask[]>) => {
    queue.push(...event.data);
    if (!running) runFrom(claimNext());
  };
}
