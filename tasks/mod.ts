/**
 * Every job kind, loaded: for what reads job files, which may have jobs of any kind. The list
 * itself is in `registry.ts`; `main.ts` hands the kinds to the commands, and `lib/` works with
 * whatever list it is given.
 *
 * @module
 */
import type { Kinds } from "../lib/kind_definition.ts";
import { loadKinds } from "./registry.ts";

export { KIND_NAMES, loadKinds } from "./registry.ts";

/** Every job kind, in the order the job file's schema lists them. */
export const KINDS: Kinds = await loadKinds();
