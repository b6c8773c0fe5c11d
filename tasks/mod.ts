/**
 * The registry of job kinds: the only list of them. A kind is a folder beside this file that
 * exports one {@linkcode KindDefinition}, and one line below; `main.ts` hands this list to the
 * commands, and `lib/` works with whatever list it is given.
 *
 * @module
 */
import type { KindDefinition } from "../lib/kind_definition.ts";
import { command } from "./command/mod.ts";
import { compute } from "./compute/mod.ts";
import { download } from "./download/mod.ts";

/** Every job kind, in the order the job file's schema lists them. */
export const KINDS: readonly KindDefinition[] = [download, compute, command];
