/**
 * Text from outside taskpool (a command's stderr, a message a compute task threw) made fit for a
 * one-line message on a terminal.
 *
 * @module
 */

/** ANSI escape sequences: CSI (colours, cursor moves, clearing), OSC (titles), and the short ones. */
// deno-lint-ignore no-control-regex
const ESCAPES = new RegExp(
  "\\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\\x07\\x1b]*(?:\\x07|\\x1b\\\\)?|[@-Z\\\\-_])|\\x9b[0-?]*[ -/]*[@-~]",
  "g",
);

/** The control characters left after them: all but the tab, C1 ones too. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * `text` without its escape sequences (a colour that came with an error message is not worth
 * clearing the user's screen or leaving it red for), and its other control characters written as
 * `\u001b`: a message shows as one line, and drives nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./printable.ts";
 * assert.equal(printable("\x1b[2J\x1b[31mboom\x1b[0m"), "boom");
 * assert.equal(printable("a\x07b\u0085c\td"), "a\\u0007b\\u0085c\td");
 * assert.equal(printable("\x1b]0;title\x07done"), "done");
 * ```
 */
export function printable(text: string): string {
  return text.replace(ESCAPES, "").replace(
    CONTROLS,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
