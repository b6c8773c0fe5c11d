/**
 * A Worker host in a process of its own (`isolation: worker`): `deno run` with the profile's
 * permission flags, fed framed requests on stdin, answering framed messages on stdout; see
 * {@linkcode ./host_main.ts}. Killing it stops every thread, stuck ones included.
 *
 * @module
 */
import { hostArgs, rememberHost, spawnHost, takeSpareHost } from "./early_host.ts";
import { FrameOutbox } from "../frame_outbox.ts";
import { encodeFrame, readFrames } from "../frames.ts";
import type { HostLink, HostLinkOptions, HostMessage, HostRequest } from "../protocol.ts";

/** Options for {@linkcode HostProcess}, beyond any link's. */
export interface HostProcessOptions extends HostLinkOptions {
  /** The host's entry module. */
  entry: URL;
  /** Its `deno run` permission flags. */
  flags: string[];
}

/** A Worker host process, started at once. */
export class HostProcess implements HostLink {
  readonly exited: Promise<string>;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Frames for its stdin, written together once per turn of the event loop. */
  readonly #outbox: FrameOutbox;
  /** Why it was ended, when taskpool ended it for a reason of its own. */
  #reason: string | undefined;

  constructor(options: HostProcessOptions) {
    const { entry, flags, size, firstMemoryMb, onMessage } = options;
    const spawn = { flags, size, memoryMb: firstMemoryMb };
    const args = hostArgs(entry, spawn);
    // The host this command line's child started early, when it is this one.
    this.#child = takeSpareHost(args) ?? spawnHost(args);
    rememberHost(spawn);
    const writer = this.#writer = this.#child.stdin.getWriter();
    // A dead host is reported by its exit.
    this.#outbox = new FrameOutbox((block) => writer.write(block));
    const replies = this.#read(onMessage);
    this.exited = Promise.all([this.#child.status, replies]).then(([status]) =>
      this.#reason ?? exitReason(status)
    );
  }

  send(request: HostRequest, frame?: Uint8Array): void {
    this.#outbox.push(frame ?? encodeFrame(request));
  }

  kill(reason?: string): void {
    this.#reason ??= reason;
    this.#writer.close().catch(() => {});
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  async #read(onMessage: (message: HostMessage) => void): Promise<void> {
    try {
      for await (const message of readFrames(this.#child.stdout)) {
        onMessage(message as HostMessage);
      }
    } catch (error) {
      // Stray bytes on stdout (a task wrote there): the host can no longer be trusted.
      this.kill(`the Worker host process broke its channel: ${error}`);
    }
  }
}

function exitReason(status: Deno.CommandStatus): string {
  if (status.signal) return `the Worker host process was killed by ${status.signal}`;
  return `the Worker host process exited with code ${status.code}`;
}
