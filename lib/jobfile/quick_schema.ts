/**
 * The job file's schema checked without zod, for the common case of a valid file. Loading zod
 * and building its schema cost a start some 45 ms; this checker is the part of zod's API the
 * schema is written with (`file_schema.ts`, `fields.ts` and each kind's part), interpreted the
 * way zod 4 does, but it only answers "valid, and here is the value" or "not sure". A file it
 * does not pass goes to zod (`validate.ts`), which says what is wrong; so the schema is written
 * once, and a message is always zod's.
 *
 * tests/jobfile/quick_schema_test.ts holds it to zod's answers: on every job file of the
 * repository and on thousands of mutations of them, whatever it passes, zod passes with the same
 * value.
 *
 * @module
 */
import type { z as Zod } from "zod";
import type { Kinds } from "../kind_definition.ts";
import { type SchemaFields, schemaFields } from "./fields.ts";
import { buildJobFileSchemas, type JobFile } from "./file_schema.ts";
import { type Environment, interpolateDocument } from "./interpolate.ts";
import { checkJobRules } from "./check.ts";
import type { ParsedDocument } from "./document.ts";

/** What a check answers for a value it does not pass. */
const FAIL: unique symbol = Symbol("not passed");

type Run = (value: unknown) => unknown;

/** zod's markers of a key that may be absent: `optional` on both sides, or a `default` in. */
interface Presence {
  optin?: "optional" | "defaulted" | undefined;
  optout?: "optional" | undefined;
}

/** Whether `value` is an object zod's `object` takes: not null, not an array. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `value` is an object zod's `record` takes: a plain one. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A default's value, as zod hands it out: a plain object or array shallow-copied. */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (isPlainObject(value)) return { ...value };
  return value;
}

/** One schema: what it makes of a value (or {@linkcode FAIL}), and zod's presence markers. */
class QuickSchema {
  readonly run: Run;
  readonly optin: Presence["optin"];
  readonly optout: Presence["optout"];
  readonly description: string | undefined;

  constructor(run: Run, presence: Presence = {}, description?: string) {
    this.run = run;
    this.optin = presence.optin;
    this.optout = presence.optout;
    this.description = description;
  }

  /** This schema with a check of its result (zod's checks and refinements). */
  #checked(passes: (value: never) => unknown): QuickSchema {
    return new QuickSchema(
      (value) => {
        const out = this.run(value);
        return out === FAIL || !passes(out as never) ? FAIL : out;
      },
      this,
      this.description,
    );
  }

  optional(): QuickSchema {
    // As zod: absence stays absence, but for a default inside, which fills it.
    const defaulted = this.optin === "defaulted";
    return new QuickSchema(
      (value) => value === undefined && !defaulted ? undefined : this.run(value),
      { optin: defaulted ? "defaulted" : "optional", optout: "optional" },
    );
  }

  default(fallback: unknown): QuickSchema {
    return new QuickSchema((value) => {
      if (value === undefined) return copyOf(fallback);
      const out = this.run(value);
      return out === undefined ? copyOf(fallback) : out;
    }, { optin: "defaulted", optout: this.optout });
  }

  describe(description: string): QuickSchema {
    return new QuickSchema(this.run, this, description);
  }

  min(least: number): QuickSchema {
    return this.#checked((value: number | { length: number }) =>
      (typeof value === "number" ? value : value.length) >= least
    );
  }

  max(most: number): QuickSchema {
    return this.#checked((value: number | { length: number }) =>
      (typeof value === "number" ? value : value.length) <= most
    );
  }

  nonnegative(): QuickSchema {
    return this.#checked((value: number) => value >= 0);
  }

  regex(pattern: RegExp): QuickSchema {
    return this.#checked((value: string) => {
      pattern.lastIndex = 0;
      return pattern.test(value);
    });
  }

  refine(passes: (value: never) => unknown): QuickSchema {
    return this.#checked(passes);
  }

  superRefine(check: (value: never, context: { addIssue(issue: unknown): void }) => void) {
    return this.#checked((value: never) => {
      let passed = true;
      check(value, { addIssue: () => passed = false });
      return passed;
    });
  }

  transform(change: (value: never) => unknown): QuickSchema {
    return new QuickSchema((value) => {
      const out = this.run(value);
      return out === FAIL ? FAIL : change(out as never);
    }, { optin: this.optin });
  }

  /** zod's `safeParse`, answering only for a value that passes. */
  safeParse(value: unknown): { success: true; data: unknown } | { success: false } {
    const data = this.run(value);
    return data === FAIL ? { success: false } : { success: true, data };
  }
}

/** A schema of one type, taking values `accepts` says yes to, as they are. */
const taking = (accepts: (value: unknown) => boolean) =>
  new QuickSchema((value) => accepts(value) ? value : FAIL);

/** The part of zod's `z` the job file's schema is written with. */
const quickZ = {
  string: () => taking((value) => typeof value === "string"),
  number: () => taking((value) => typeof value === "number" && Number.isFinite(value)),
  int: () => taking((value) => Number.isSafeInteger(value)),
  boolean: () => taking((value) => typeof value === "boolean"),
  unknown: () => new QuickSchema((value) => value),
  literal: (literal: unknown) => taking((value) => value === literal),
  enum: (values: readonly unknown[]) => taking((value) => values.includes(value)),

  union(options: readonly QuickSchema[]): QuickSchema {
    return new QuickSchema((value) => {
      for (const option of options) {
        const out = option.run(value);
        if (out !== FAIL) return out;
      }
      return FAIL;
    });
  },

  array(element: QuickSchema): QuickSchema {
    return new QuickSchema((value) => {
      if (!Array.isArray(value)) return FAIL;
      const out: unknown[] = [];
      for (let index = 0; index < value.length; index++) {
        const item = element.run(value[index]);
        if (item === FAIL) return FAIL;
        out[index] = item;
      }
      return out;
    });
  },

  record(key: QuickSchema, element: QuickSchema): QuickSchema {
    return new QuickSchema((value) => {
      if (!isPlainObject(value)) return FAIL;
      const out: Record<string, unknown> = {};
      for (const name of Reflect.ownKeys(value)) {
        // zod drops a __proto__ key and refuses symbols: zod answers for those.
        if (typeof name !== "string" || name === "__proto__") return FAIL;
        if (!Object.prototype.propertyIsEnumerable.call(value, name)) continue;
        if (key.run(name) !== name) return FAIL;
        const item = element.run(value[name]);
        if (item === FAIL) return FAIL;
        out[name] = item;
      }
      return out;
    });
  },

  strictObject(shape: Record<string, QuickSchema>): QuickSchema {
    const known = new Set(Object.keys(shape));
    return new QuickSchema((value) => {
      if (!isObject(value)) return FAIL;
      for (const name in value) if (!known.has(name)) return FAIL;
      const out: Record<string, unknown> = {};
      for (const [name, schema] of Object.entries(shape)) {
        const present = name in value;
        if (!present && schema.optin === "optional" && schema.optout === "optional") continue;
        if (!present && schema.optin === undefined) return FAIL;
        const item = schema.run(value[name]);
        if (item === FAIL) return FAIL;
        if (item !== undefined) out[name] = item;
        else if (present || (schema.optin === "defaulted" && schema.optout !== "optional")) {
          out[name] = undefined;
        }
      }
      return out;
    });
  },
};

/** The shared fields built with the quick checker. */
export const QUICK_FIELDS: SchemaFields = schemaFields(quickZ as unknown as typeof Zod);

const built = new WeakMap<Kinds, QuickSchema>();

/**
 * The job file `value` (parsed, `${VAR}` filled in) with defaults applied and durations in
 * milliseconds, as zod's schema would give it; undefined when it does not pass, or when the
 * quick checker is not sure: ask zod then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KINDS } from "../../tasks/mod.ts";
 * import { quickJobFile } from "./quick_schema.ts";
 * const file = quickJobFile({ jobs: [{ name: "hi", run: ["sleep", 1], timeout: "2s" }] }, KINDS);
 * assert.equal(file?.output, "downloads");
 * assert.deepEqual(file?.jobs[0]?.["run"], ["sleep", "1"]);
 * assert.equal(file?.jobs[0]?.timeout, 2000);
 * assert.equal(quickJobFile({ jobs: [{ name: "hi", sleep: 1 }] }, KINDS), undefined);
 * ```
 */
export function quickJobFile(value: unknown, kinds: Kinds): JobFile | undefined {
  let schema = built.get(kinds);
  if (!schema) {
    try {
      schema = buildJobFileSchemas(QUICK_FIELDS, kinds).file as unknown as QuickSchema;
    } catch {
      // A kind's part uses what the quick checker does not have: zod checks every file.
      schema = new QuickSchema(() => FAIL);
    }
    built.set(kinds, schema);
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data as JobFile : undefined;
}

/**
 * A parsed job file, checked as `validateJobFile` (validate.ts) checks it, when it is valid and
 * the quick checker is sure of it; undefined otherwise, for `validateJobFile` to say what is
 * wrong.
 */
export function validJobFile(
  doc: ParsedDocument,
  options: { kinds: Kinds; env?: Environment | undefined },
): JobFile | undefined {
  const { kinds, env = (name) => Deno.env.get(name) } = options;
  const interpolated = interpolateDocument(doc, env);
  if (interpolated.errors.length > 0) return undefined;
  const file = quickJobFile(interpolated.value, kinds);
  if (file === undefined) return undefined;
  return checkJobRules(doc, interpolated.value, kinds, QUICK_FIELDS).length === 0
    ? file
    : undefined;
}
