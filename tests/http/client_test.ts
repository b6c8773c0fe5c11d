import assert from "node:assert/strict";
import { IncompleteBodyError, NetworkError, ProtocolError } from "../../lib/http/errors.ts";
import { HttpClient, type HttpResponse } from "../../lib/http/client.ts";
import { type RawScript, startRawServer } from "../helpers/raw_server.ts";

const decoder = new TextDecoder();

function get(client: HttpClient, url: string, signal = new AbortController().signal) {
  return client.get(new URL(url), { headers: new Headers(), signal });
}

async function text(response: HttpResponse): Promise<string> {
  return decoder.decode(await response.body.bytes());
}

/** Sends `data` one byte per write, so every parser state meets a read boundary. */
async function dribble(send: (data: string) => Promise<void>, data: string) {
  for (const char of data) await send(char);
}

Deno.test("HttpClient reads a chunked body with extensions and trailers, split byte by byte, and reuses the connection", async () => {
  const chunked = "5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: yes\r\n\r\n";
  await using server = startRawServer(async ({ send }) => {
    await dribble(send, `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunked}`);
    return "keep";
  });
  using client = new HttpClient();
  assert.equal(await text(await get(client, `${server.url}/a`)), "hello, world");
  assert.equal(await text(await get(client, `${server.url}/b`)), "hello, world");
  assert.equal(server.connections(), 1);
});

Deno.test("HttpClient skips interim 1xx answers and parses a head split anywhere", async () => {
  await using server = startRawServer(async ({ send }) => {
    await dribble(
      send,
      "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nX-Odd:  spaced \r\ncontent-length: 2\r\n\r\nok",
    );
    return "keep";
  });
  using client = new HttpClient();
  const response = await get(client, server.url);
  assert.equal(response.status, 201);
  assert.equal(response.statusText, "Created");
  assert.equal(response.headers.get("x-odd"), "spaced");
  assert.equal(response.body.length, 2);
  assert.equal(await text(response), "ok");
});

Deno.test("HttpClient sends Host with the port, its defaults and the caller's headers, once each", async () => {
  await using server = startRawServer(async ({ send }) => {
    await send("HTTP/1.1 204 No Content\r\n\r\n");
    return "keep";
  });
  using client = new HttpClient();
  const headers = new Headers({ "x-token": "abc", host: "evil.example", accept: "text/plain" });
  const response = await client.get(new URL(`${server.url}/p/a%20b?q=1`), {
    headers,
    signal: new AbortController().signal,
  });
  await response.body.cancel();
  const [request] = server.requests;
  const lines = request!.split("\r\n");
  assert.equal(lines[0], "GET /p/a%20b?q=1 HTTP/1.1");
  const port = new URL(server.url).port;
  assert.deepEqual(lines.filter((line) => line.startsWith("host:")), [`host: 127.0.0.1:${port}`]);
  assert.ok(lines.includes("x-token: abc"));
  assert.ok(lines.includes("accept: text/plain"));
  assert.ok(lines.includes("accept-encoding: gzip, deflate"));
  assert.equal(lines.filter((line) => line.startsWith("accept:")).length, 1);
});

Deno.test("HttpClient opens a new connection after Connection: close, an HTTP/1.0 answer or a body read to the end", async () => {
  const answers = [
    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\na",
    "HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nb",
    "HTTP/1.1 200 OK\r\n\r\nc", // no length: the body ends with the connection
    "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nd",
  ];
  await using server = startRawServer(async ({ send, count }) => {
    await send(answers[Math.min(count, answers.length) - 1]!);
    return count === 3 ? "close" : "keep";
  });
  using client = new HttpClient();
  const bodies = [];
  for (let i = 0; i < 5; i++) bodies.push(await text(await get(client, server.url)));
  // The fifth request goes on the fourth's connection: "HTTP/1.1 ... d" kept it.
  assert.deepEqual(bodies.slice(0, 4), ["a", "b", "c", "d"]);
  assert.equal(server.connections(), 4);
});

Deno.test("HttpClient sends a request again when a pooled connection was closed while idle", async () => {
  await using server = startRawServer(async ({ send, count }) => {
    await send(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${count}`);
    return "close"; // without saying so: the client learns it on the next request
  });
  using client = new HttpClient();
  assert.equal(await text(await get(client, server.url)), "1");
  await server.ended(0);
  assert.equal(await text(await get(client, server.url)), "2");
  assert.equal(server.connections(), 2);
});

Deno.test("HttpClient reuses no connection with bytes past a body's end, sent with the body or later", async () => {
  for (const later of [false, true]) {
    const released = Promise.withResolvers<void>();
    await using server = startRawServer(async ({ send, count }) => {
      const body = `HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${count}`;
      if (count > 1) await send(body);
      else if (!later) await send(`${body}EXTRA`);
      else {
        await send(body);
        await released.promise;
        await send("EXTRA"); // before the next request: the client reads it as the answer
      }
      return "keep";
    });
    using client = new HttpClient();
    assert.equal(await text(await get(client, server.url)), "1");
    released.resolve();
    // Sent later, the garbage comes before the second answer: the third, on a new connection.
    assert.equal(await text(await get(client, server.url)), later ? "3" : "2", `later: ${later}`);
    assert.equal(server.connections(), 2, `later: ${later}`);
  }
});

Deno.test("HttpClient keeps at most maxIdle connections in all, closing the one idle longest", async () => {
  const script: RawScript = async ({ send }) => {
    await send("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx");
    return "keep";
  };
  // Four origins (four ports), as a crawl visits four hosts.
  await using a = startRawServer(script);
  await using b = startRawServer(script);
  await using c = startRawServer(script);
  await using d = startRawServer(script);
  using client = new HttpClient({ maxIdlePerOrigin: 4, maxIdle: 2 });
  for (const server of [a, b, c, d]) await text(await get(client, server.url));
  for (const server of [c, d, a, b]) await text(await get(client, server.url));
  // a's and b's were closed as c's and d's came in; c's and d's were kept.
  assert.deepEqual([a, b, c, d].map((server) => server.connections()), [2, 2, 1, 1]);
  await Promise.all([a.ended(0), b.ended(0)]);
});

Deno.test("HttpClient fails a body cut short: Content-Length and chunked", async () => {
  const scripts: Record<string, RawScript> = {
    length: async ({ send }) => {
      await send("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
      return "close";
    },
    chunked: async ({ send }) => {
      await send("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nabc");
      return "close";
    },
  };
  for (const [name, script] of Object.entries(scripts)) {
    await using server = startRawServer(script);
    using client = new HttpClient();
    const response = await get(client, server.url);
    const read = name === "length" ? response.body.bytes() : text(response);
    await assert.rejects(read, IncompleteBodyError, name);
    const again = await get(client, server.url);
    await assert.rejects(again.body.whole(() => Promise.resolve()), IncompleteBodyError, name);
  }
});

Deno.test("HttpClient refuses malformed answers with a ProtocolError", async () => {
  const answers: Record<string, string> = {
    "status line": "HTCPCP/1.0 418 I'm a teapot\r\n\r\n",
    "conflicting lengths": "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
    "folded header": "HTTP/1.1 200 OK\r\nx-a: 1\r\n  continued\r\ncontent-length: 0\r\n\r\n",
    "header name": "HTTP/1.1 200 OK\r\nbad header: 1\r\n\r\n",
    "chunk size": "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    "chunk longer than said":
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
    "head too long": `HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`,
  };
  for (const [name, answer] of Object.entries(answers)) {
    await using server = startRawServer(async ({ send }) => {
      await send(answer);
      return "close";
    });
    using client = new HttpClient();
    await assert.rejects(
      get(client, server.url).then((response) => response.body.bytes()),
      ProtocolError,
      name,
    );
  }
});

Deno.test("HttpClient decodes gzip and deflate bodies, and fails an unknown encoding on read", async () => {
  const plain = "taskpool ".repeat(1000);
  const compressed = async (format: CompressionFormat) =>
    new Uint8Array(
      await new Response(
        new Blob([plain]).stream().pipeThrough(new CompressionStream(format)),
      ).arrayBuffer(),
    );
  const bodies: Record<string, Uint8Array> = {
    gzip: await compressed("gzip"),
    deflate: await compressed("deflate"),
    br: new Uint8Array([1, 2, 3]),
    "corrupt-gzip": new TextEncoder().encode("not gzip at all"),
  };
  await using server = startRawServer(async ({ request, send }) => {
    const name = request.split(" ")[1]!.slice(1);
    const body = bodies[name]!;
    const coding = name.replace("corrupt-", "");
    await send(
      `HTTP/1.1 200 OK\r\ncontent-encoding: ${coding}\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    await send(body);
    return "keep";
  });
  using client = new HttpClient();
  for (const coding of ["gzip", "deflate"]) {
    const response = await get(client, `${server.url}/${coding}`);
    assert.equal(response.body.length, undefined, "a decoded body has no known length");
    assert.equal(await text(response), plain, coding);
  }
  const unknown = await get(client, `${server.url}/br`);
  await assert.rejects(unknown.body.bytes(), /unsupported Content-Encoding: br/);
  // Bytes that do not decode are a malformed answer (PROTOCOL), not a network error.
  const corrupt = await get(client, `${server.url}/corrupt-gzip`);
  await assert.rejects(corrupt.body.bytes(), (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, /^its gzip body does not decode: /);
    return true;
  });
});

Deno.test("HttpClient: an abort mid-body rejects with the signal's reason and closes the connection", async () => {
  const held = Promise.withResolvers<void>();
  await using server = startRawServer(async ({ send }) => {
    await send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst bytes");
    await held.promise;
    return "close";
  });
  using client = new HttpClient();
  const controller = new AbortController();
  const response = await get(client, server.url, controller.signal);
  assert.equal(decoder.decode((await response.body.read())!), "first bytes");
  const reading = response.body.read();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(reading, (error) => error === reason);
  held.resolve();
  await server.ended(0);
});

Deno.test("HttpClient: a refused connection is a NetworkError naming the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  using client = new HttpClient();
  await assert.rejects(
    get(client, `http://127.0.0.1:${port}/`),
    (error) => error instanceof NetworkError && error.message.includes(`127.0.0.1:${port}`),
  );
});

Deno.test("HttpClient speaks HTTPS, trusting the CA it is given, and refuses an unknown one", async () => {
  const read = (name: string) =>
    Deno.readTextFileSync(new URL(`../testdata/tls/${name}`, import.meta.url));
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: read("leaf.pem"),
    key: read("leaf.key"),
    signal: controller.signal,
    onListen: () => {},
  }, () => new Response("secure"));
  try {
    const url = `https://localhost:${server.addr.port}/`;
    {
      using client = new HttpClient({ caCerts: [read("ca.pem")] });
      assert.equal(await text(await get(client, url)), "secure");
      assert.equal(await text(await get(client, url)), "secure");
    }
    using untrusting = new HttpClient();
    await assert.rejects(get(untrusting, url), NetworkError);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("HttpClient reads a body larger than its buffer in views, then serves the next request on the same connection", async () => {
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 13) & 0xff);
  await using server = startRawServer(async ({ send, count }) => {
    const body = count === 1 ? big : new Uint8Array([1, 2, 3]);
    await send(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
    await send(body);
    return "keep";
  });
  using client = new HttpClient();
  const response = await get(client, server.url);
  const received = new Uint8Array(big.length);
  let at = 0;
  let reads = 0;
  for (let view = await response.body.read(); view; view = await response.body.read()) {
    received.set(view, at);
    at += view.length;
    reads++;
  }
  assert.equal(at, big.length);
  assert.deepEqual(received, big);
  assert.ok(reads >= 3, "views are at most 1 MiB");
  assert.deepEqual(await (await get(client, server.url)).body.bytes(), new Uint8Array([1, 2, 3]));
  assert.equal(server.connections(), 1);
});
