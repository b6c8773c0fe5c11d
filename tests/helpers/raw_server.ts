/**
 * A loopback TCP server that answers each HTTP request with exactly the bytes a test scripts:
 * malformed heads, odd framing, writes split anywhere. `Deno.serve` cannot send those.
 *
 * @module
 */

/** What a script gets for one request. */
export interface RawExchange {
  /** The request head, up to the empty line. */
  request: string;
  /** 1 for the first request the server saw, and so on across connections. */
  count: number;
  /** Requests seen on this connection before this one. */
  onConnection: number;
  /** Writes bytes (or latin1 text) to the client, all of them. */
  send(data: Uint8Array | string): Promise<void>;
}

/** What a script answers: keep the connection for the next request, or close it. */
export type RawScript = (exchange: RawExchange) => Promise<"keep" | "close">;

/** A running raw server. */
export interface RawServer extends AsyncDisposable {
  url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Request heads received, in order. */
  requests: string[];
  /** Resolves when connection `index` (0-based) has ended, closed by either side. */
  ended(index: number): Promise<void>;
}

const encoder = new TextEncoder();

/** Starts a raw server on 127.0.0.1 at a free port. */
export function startRawServer(script: RawScript): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const endings: PromiseWithResolvers<void>[] = [];
  const open = new Set<Deno.Conn>();
  const serving: Promise<void>[] = [];
  const endingOf = (index: number) => endings[index] ??= Promise.withResolvers<void>();
  let accepted = 0;

  async function serve(conn: Deno.Conn, index: number) {
    open.add(conn);
    let buffered = "";
    let onConnection = 0;
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        let end = buffered.indexOf("\r\n\r\n");
        while (end < 0) {
          const n = await conn.read(chunk);
          if (n === null) return;
          buffered += String.fromCharCode(...chunk.subarray(0, n));
          end = buffered.indexOf("\r\n\r\n");
        }
        const request = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        requests.push(request);
        const send = async (data: Uint8Array | string) => {
          const bytes = typeof data === "string" ? latin1(data) : data;
          for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        };
        const next = await script({ request, count: requests.length, onConnection, send });
        onConnection++;
        if (next === "close") return;
      }
    } catch {
      // reset by the client
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
      endingOf(index).resolve();
    }
  }

  const accepting = (async () => {
    for await (const conn of listener) serving.push(serve(conn, accepted++));
  })();

  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    requests,
    ended: (index) => endingOf(index).promise,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of open) conn.close();
      await Promise.allSettled(serving);
    },
  };
}

function latin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** `text` as UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
