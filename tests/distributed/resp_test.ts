/**
 * The coordinator's Redis client against a real redis-server: pipelined replies in order, large
 * and non-ASCII values, pub/sub, a Redis that restarts while commands wait, a refused password
 * and TLS.
 */
import assert from "node:assert/strict";
import { ReplyParser, RespClient, RespReplyError } from "../../lib/distributed/resp.ts";
import { startRedis } from "../helpers/redis.ts";
import { makeCa } from "../helpers/tls.ts";
import { tempDir } from "../helpers/temp.ts";

Deno.test("ReplyParser reads nested arrays and a large value cut at every place", () => {
  const big = "é".repeat(3_000_000); // 6 MB of UTF-8: some hundred reads
  const text = `*2\r\n$3\r\nabc\r\n*3\r\n:1\r\n$-1\r\n*0\r\n-ERR no\r\n+OK\r\n` +
    `*2\r\n$${2 * big.length}\r\n${big}\r\n*1\r\n:7\r\n`;
  const bytes = new TextEncoder().encode(text);
  for (const size of [1, 7, 64 * 1024]) {
    const parser = new ReplyParser();
    const replies: unknown[] = [];
    // Byte by byte only through the small replies: every state meets the end of what was read.
    const end = size === 1 ? text.indexOf("+OK") + 5 : bytes.length;
    for (let at = 0; at < bytes.length; at += at < end ? size : 64 * 1024) {
      parser.push(bytes.subarray(at, at < end ? at + size : at + 64 * 1024));
      for (let reply = parser.next(); typeof reply !== "symbol"; reply = parser.next()) {
        replies.push(reply);
      }
    }
    assert.equal(replies.length, 4, `pieces of ${size}`);
    assert.deepEqual(replies[0], ["abc", [1, null, []]]);
    assert.ok(replies[1] instanceof RespReplyError);
    assert.equal(replies[2], "OK");
    assert.deepEqual(replies[3], [big, [7]]);
  }
});

Deno.test("commands of one turn go together and each gets its own reply", async () => {
  await using redis = await startRedis();
  const client = new RespClient(redis.url);
  try {
    const big = "x".repeat(300_000) + "é";
    const replies = await Promise.all([
      client.send("SET", "k", "v"),
      client.send("GET", "k"),
      client.send("GET", "absent"),
      client.send("INCR", "n"),
      client.send("RPUSH", "l", "a", "ünï", big),
      client.send("LRANGE", "l", 0, -1),
      client.send("HGET", "k", "f").catch((error) => error),
      client.send("HMGET", "h", "a", "b"),
      client.send("PING"),
    ]);
    assert.deepEqual(replies.slice(0, 6), ["OK", "v", null, 1, 3, ["a", "ünï", big]]);
    assert.ok(replies[6] instanceof RespReplyError);
    assert.match((replies[6] as Error).message, /WRONGTYPE/);
    assert.deepEqual(replies.slice(7), [[null, null], "PONG"]);
    // Thousands at once: the replies span many reads.
    const many = await Promise.all(
      Array.from({ length: 5000 }, (_, i) => client.send("ECHO", `m${i}`)),
    );
    assert.deepEqual(many, Array.from({ length: 5000 }, (_, i) => `m${i}`));
  } finally {
    await client.quit();
  }
});

Deno.test("a subscriber gets messages, and again after Redis restarts; commands wait for it", async () => {
  await using redis = await startRedis();
  const errors: string[] = [];
  const messages: string[] = [];
  let arrived = Promise.withResolvers<void>();
  const subscriber = new RespClient(redis.url, {
    onError: (message) => errors.push(message),
    onMessage: (channel, message) => {
      messages.push(`${channel}:${message}`);
      arrived.resolve();
    },
  });
  const client = new RespClient(redis.url, { onError: (message) => errors.push(message) });
  try {
    await subscriber.subscribe("one", "two");
    assert.equal(await client.send("PUBLISH", "two", "hello\nworld"), 1);
    await arrived.promise;
    assert.deepEqual(messages, ["two:hello\nworld"]);

    await redis.restartEmpty();
    // Sent while the connection is found lost and opened again: answered by the new server.
    assert.equal(await client.send("SET", "after", "1"), "OK");
    assert.equal(await redis.cli("GET", "after"), "1\n");
    assert.ok(errors.length > 0, "the lost connection is said");
    arrived = Promise.withResolvers<void>();
    // The subscriber is back once a PUBLISH reaches it.
    while (await client.send("PUBLISH", "one", "again") === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await arrived.promise;
    assert.equal(messages.at(-1), "one:again");
  } finally {
    await client.quit();
    await subscriber.quit();
  }
});

Deno.test("a refused password fails what waits and is said without the password", async () => {
  await using redis = await startRedis({ password: "s3cret-pw" });
  const errors: string[] = [];
  const wrong = new RespClient(redis.url.replace("s3cret-pw", "n0t-it"), {
    onError: (message) => errors.push(message),
  });
  try {
    await assert.rejects(wrong.send("PING"), /WRONGPASS|invalid password/);
    assert.ok(errors.length > 0);
    for (const error of errors) assert.ok(!error.includes("n0t-it"));
  } finally {
    wrong.close();
  }
  const right = new RespClient(`${redis.url}/3`);
  try {
    await right.send("SET", "in3", "yes");
    assert.equal(await redis.cli("-n", "3", "GET", "in3"), "yes\n");
  } finally {
    await right.quit();
  }
});

Deno.test("rediss:// trusts the authority it is given", async () => {
  await using dir = await tempDir();
  await makeCa(dir.path);
  const [cert, key, ca] = ["leaf.pem", "leaf.key", "ca.pem"].map((name) => `${dir.path}/${name}`);
  await using redis = await startRedis({ tls: { cert: cert!, key: key!, ca: ca! } });
  const client = new RespClient(redis.url, { caCert: await Deno.readTextFile(ca!) });
  try {
    assert.equal(await client.send("PING"), "PONG");
  } finally {
    await client.quit();
  }
});
