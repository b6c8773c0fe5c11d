import assert from "node:assert/strict";
import { schemaText } from "../lib/cli/schema.ts";
import { KINDS } from "../tasks/mod.ts";

Deno.test("schema/jobfile.schema.json matches the schema in code (run `deno task schema > schema/jobfile.schema.json`)", async () => {
  const committed = await Deno.readTextFile(
    new URL("../schema/jobfile.schema.json", import.meta.url),
  );
  assert.equal(committed, schemaText(KINDS));
});

Deno.test("the JSON Schema requires exactly one job kind and describes durations", () => {
  const schema = JSON.parse(schemaText(KINDS));
  const job = schema.properties.jobs.items;
  assert.deepEqual(job.oneOf, [{ required: ["download"] }, { required: ["compute"] }, {
    required: ["run"],
  }]);
  assert.equal(job.additionalProperties, false);
  assert.ok(
    job.properties.timeout.anyOf.some((branch: { type: string }) => branch.type === "string"),
  );
});
