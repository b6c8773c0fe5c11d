import assert from "node:assert/strict";
import { moduleFiles } from "../../../tasks/compute/module_files.ts";
import { tempDir } from "../../helpers/temp.ts";

Deno.test("moduleFiles follows relative and file: imports of every form, and nothing else", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/lib`);
  await Deno.mkdir(`${dir.path}/other`);
  await dir.write(
    "main.ts",
    [
      'import { a } from "./lib/a.ts";',
      'import type { T } from "./lib/types.ts";',
      "import {",
      "  b,",
      '} from "./lib/b.ts";',
      'export * from "./lib/c.ts";',
      'import "./lib/side.ts";',
      'const lazy = () => import("./lib/lazy.ts");',
      'import { parse } from "npm:yaml@2";',
      'import { z } from "zod";',
      'import { gone } from "./lib/missing.ts";',
      `import { far } from "file://${dir.path}/other/far.ts";`,
      "",
    ].join("\n"),
  );
  await dir.write("lib/a.ts", 'import { b } from "./b.ts";\nexport const a = 1;\n');
  await dir.write("lib/b.ts", 'import { a } from "./a.ts";\nexport const b = 2;\n'); // a cycle
  await dir.write("lib/c.ts", 'export * from "../other/deep.ts";\n');
  await dir.write("lib/types.ts", "export type T = number;\n");
  await dir.write("lib/side.ts", "console.log('loaded');\n");
  await dir.write("lib/lazy.ts", "export default 1;\n");
  await dir.write("other/far.ts", "export const far = 1;\n");
  await dir.write("other/deep.ts", "export const deep = 1;\n");
  await dir.write("other/unused.ts", "export const unused = 1;\n");

  const files = await moduleFiles(`file://${dir.path}/main.ts`);
  assert.deepEqual(
    files.map((file) => file.slice(dir.path.length + 1)),
    [
      "lib/a.ts",
      "lib/b.ts",
      "lib/c.ts",
      "lib/lazy.ts",
      "lib/side.ts",
      "lib/types.ts",
      "main.ts",
      "other/deep.ts",
      "other/far.ts",
    ],
  );
});
