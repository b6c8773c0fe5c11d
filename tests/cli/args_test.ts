/**
 * taskpool's flag parser (lib/cli/args.ts), which stands in for node:util's parseArgs: the
 * forms the commands take, and the mistakes that must end in a usage error (exit 2).
 */
import assert from "node:assert/strict";
import { parseCommandArgs } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/errors.ts";

const FLAGS = {
  output: { type: "string", short: "o" },
  concurrency: { type: "string", short: "j" },
  quiet: { type: "boolean", short: "q" },
  force: { type: "boolean" },
  only: { type: "string", multiple: true },
  "wait-lock": { type: "string" },
  "rerun-failed": { type: "string", bare: "" },
} as const;

const parse = (...args: string[]) => parseCommandArgs(args, FLAGS);

Deno.test("the flag forms the commands take", () => {
  const { values, positionals } = parse("jobs.yaml", "--output", "out", "-q");
  assert.deepEqual({ ...values }, { output: "out", quiet: true });
  assert.deepEqual(positionals, ["jobs.yaml"]);
  assert.deepEqual({ ...parse("--output=out", "-oother").values }, { output: "other" });
  assert.deepEqual({ ...parse("-qj", "4").values }, { quiet: true, concurrency: "4" });
  assert.deepEqual({ ...parse("-qj4").values }, { quiet: true, concurrency: "4" });
  assert.deepEqual({ ...parse("--only", "a", "--only=b,c").values }, { only: ["a", "b,c"] });
  assert.deepEqual(parse("-", "-o", "-").positionals, ["-"]); // stdin, and "-" as a value
  assert.deepEqual(parse("--", "--force", "-q").positionals, ["--force", "-q"]);
  assert.deepEqual({ ...parse("--output=").values }, { output: "" });
  // A negative number is a value, which the flag's own rule then refuses.
  assert.deepEqual({ ...parse("-j", "-1").values }, { concurrency: "-1" });
  assert.deepEqual({ ...parse("--wait-lock", "-5", "jobs.yaml").values }, { "wait-lock": "-5" });
  // A bare --wait-lock takes no following argument as its value.
  const waiting = parse("--wait-lock", "jobs.yaml");
  assert.deepEqual({ ...waiting.values }, { "wait-lock": "forever" });
  assert.deepEqual(waiting.positionals, ["jobs.yaml"]);
  // A flag whose value may be left out takes the next argument unless it is a flag, nothing, or
  // the command's only positional.
  const rerun = (...args: string[]) => {
    const { values, positionals } = parse(...args);
    return [values["rerun-failed"], positionals];
  };
  assert.deepEqual(rerun("jobs.yaml", "--rerun-failed"), ["", ["jobs.yaml"]]);
  assert.deepEqual(rerun("--rerun-failed", "jobs.yaml"), ["", ["jobs.yaml"]]);
  assert.deepEqual(rerun("--rerun-failed", "-q", "jobs.yaml"), ["", ["jobs.yaml"]]);
  assert.deepEqual(rerun("--rerun-failed", "r.json", "jobs.yaml"), ["r.json", ["jobs.yaml"]]);
  assert.deepEqual(rerun("jobs.yaml", "--rerun-failed", "r.json"), ["r.json", ["jobs.yaml"]]);
  assert.deepEqual(rerun("jobs.yaml", "--rerun-failed=r.json"), ["r.json", ["jobs.yaml"]]);
});

Deno.test("flag mistakes are usage errors that say what was wrong", () => {
  const cases: [string[], RegExp][] = [
    [["--nope"], /unknown option --nope; a file named so goes after --, as in: -- --nope/],
    [["--outptu", "x"], /unknown option --outptu \(did you mean --output\?\)/],
    [["-x"], /unknown option -x/],
    [["-qx"], /unknown option -x/],
    [["--output"], /--output needs a value, and none follows it/],
    [["-o"], /-o needs a value, and none follows it/],
    [["--output", "--force"], /--output needs a value, and --force follows it .*--output=--force/],
    [["-o", "-q"], /-o needs a value, and -q follows it .*written --output=-q/],
    [["--force=yes"], /Option '--force' does not take an argument/],
    [["--__proto__"], /unknown option --__proto__/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parse(...args),
      (error: unknown) =>
        error instanceof UsageError && !error.message.startsWith("taskpool") &&
        message.test(error.message),
      args.join(" "),
    );
  }
});
