/**
 * A Worker host in taskpool's own process (`isolation: thread`): a
 * {@linkcode ./thread_host.ts | ThreadHost} whose web Workers get the profile's
 * permissions as Worker options, so no process starts and no frame is encoded. It answers as a
 * {@linkcode ./process_link.ts | host process} would, a microtask later: requests and messages
 * are passed on once the code that made them has returned, so neither side runs inside the
 * other.
 *
 * What it cannot do: stop a thread stuck in a busy loop (killing it leaves that thread spinning
 * until taskpool's process ends), or survive a thread without a heap cap that runs out of memory
 * (that ends taskpool's process).
 *
 * @module
 */
import { ownFileUrl } from "../../util/own_files.ts";
import { ThreadHost } from "./thread_host.ts";
import type { HostLink, HostLinkOptions, HostMessage, HostRequest } from "../protocol.ts";

/** Options for {@linkcode HostInProcess}, beyond any link's. */
export interface HostInProcessOptions extends HostLinkOptions {
  /** The threads' permissions. */
  permissions: Deno.PermissionOptionsObject;
}

const RUNNERS = {
  web: ownFileUrl("lib/pools/worker/web_runner.ts"),
  node: ownFileUrl("lib/pools/worker/node_runner.ts"),
};
const decoder = new TextDecoder();

/** A Worker host's threads in this process, started at once. */
export class HostInProcess implements HostLink {
  readonly exited: Promise<string>;
  readonly #host: ThreadHost;
  readonly #ended = Promise.withResolvers<string>();
  #requests: HostRequest[] = [];
  #messages: HostMessage[] = [];
  #killed = false;

  constructor(options: HostInProcessOptions) {
    const { size, firstMemoryMb, permissions, onMessage } = options;
    this.exited = this.#ended.promise;
    const deliver = () => {
      const messages = this.#messages;
      this.#messages = [];
      for (const message of messages) if (!this.#killed) onMessage(message);
    };
    const queue = (message: HostMessage) => {
      if (this.#messages.push(message) === 1) queueMicrotask(deliver);
    };
    this.#host = new ThreadHost({
      size,
      firstMemoryMb,
      runners: RUNNERS,
      permissions,
      out: {
        message: queue,
        reply: (worker, next, json) => {
          const reply = JSON.parse(decoder.decode(json)) as HostMessage & { next?: number };
          Object.assign(reply, { worker });
          if (next !== undefined) reply.next = next;
          queue(reply);
        },
      },
    });
  }

  send(request: HostRequest): void {
    if (this.#killed) return;
    if (this.#requests.push(request) === 1) {
      queueMicrotask(() => {
        const requests = this.#requests;
        this.#requests = [];
        if (!this.#killed) this.#host.take(requests);
      });
    }
  }

  kill(reason = "the Worker threads were stopped"): void {
    if (this.#killed) return;
    this.#killed = true;
    this.#host.close();
    this.#ended.resolve(reason);
  }
}
