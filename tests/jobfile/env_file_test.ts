import assert from "node:assert/strict";
import { parseEnvFile } from "../../lib/jobfile/env_file.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("parseEnvFile reads a quoted value over several lines, as dotenv does, and says where one never closes", () => {
  const text = [
    "# keys",
    'KEY="-----BEGIN PRIVATE KEY-----',
    "MIIEvQIBADANBg",
    '-----END PRIVATE KEY-----" # the deploy key',
    "NOTE='two",
    "lines, $LITERAL'",
    'ESCAPED="a \\" quote',
    'and more"',
    "AFTER=1",
  ].join("\r\n");
  const vars = parseEnvFile(text, ".env");
  assert.equal(
    vars.get("KEY"),
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
  );
  assert.equal(vars.get("NOTE"), "two\nlines, $LITERAL");
  assert.equal(vars.get("ESCAPED"), 'a " quote\nand more');
  assert.equal(vars.get("AFTER"), "1");
  assert.throws(
    () => parseEnvFile('A=1\nB="never\nclosed\nC=3\n', ".env"),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === `.env:2: the value's " opened here is never closed`,
  );
  assert.throws(
    () => parseEnvFile('A="closed" trailing\n', ".env"),
    /\.env:1: unexpected text after the closing quote/,
  );
});

Deno.test("parseEnvFile expands ${NAME} and ${NAME:-default} outside single quotes, as deno --env-file does", () => {
  const text = [
    "HOST=10.0.0.5",
    "MIRROR=http://${HOST}:8080",
    'FEED="${MIRROR}/feed.xml"',
    "LITERAL='${HOST}'",
    "ESCAPED=$${HOST}",
    "BARE=pa$$word$HOST",
    "PORT=${UNSET_PORT:-8080}",
    "EMPTY=[${UNSET_VAR}]",
    "USER_HOME=${HOME}/x",
  ].join("\n");
  const vars = parseEnvFile(text, ".env", (name) => name === "HOME" ? "/home/me" : undefined);
  assert.deepEqual(Object.fromEntries(vars), {
    HOST: "10.0.0.5",
    MIRROR: "http://10.0.0.5:8080",
    FEED: "http://10.0.0.5:8080/feed.xml",
    LITERAL: "${HOST}",
    ESCAPED: "${HOST}",
    BARE: "pa$$word$HOST",
    PORT: "8080",
    EMPTY: "[]",
    USER_HOME: "/home/me/x",
  });
  // The environment's value wins over the file's, in expansions too.
  const overridden = parseEnvFile(
    "HOST=file\nURL=${HOST}/a",
    ".env",
    (name) => name === "HOST" ? "env" : undefined,
  );
  assert.equal(overridden.get("URL"), "env/a");
});
