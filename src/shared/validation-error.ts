/**
 * One way to turn zod's issues into the API's 400: every problem as a detail that names
 * its field (a dotted path) and says what is wrong in words a client can act on, the
 * first few joined as the message.
 *
 * zod alone reports a body that matches no branch of a union as one issue at the union's
 * own path ("" for a whole body) saying "Invalid input", which names nothing: an agent
 * that left out `message` from a log entry could not tell what to fix. So a union's
 * issue is replaced by the issues of the branch the body was meant for — the one that
 * knows most of the object's keys (read from the schema when it is given), then the one
 * with fewest problems — and by every branch's issues when that is still a tie. A union
 * of plain values (`1 | 2`) becomes one "expected 1 or 2". Issues keep only types and
 * expected values, never the input, which may be a secret.
 */
import type { z } from "zod";
import { AppError } from "./errors.ts";

export interface ValidationDetail {
  path: string;
  message: string;
}

/** A detail while it is built: `or` marks the first detail of another union branch. */
interface Explained extends ValidationDetail {
  or?: boolean;
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** How many details the message spells out before "and N more". */
const MESSAGE_DETAILS = 3;

export function validationError(
  issues: readonly Issue[],
  context: { input?: unknown; schema?: z.ZodType; what?: string } = {},
): AppError {
  const explained = explainAll(issues, context.input, context.schema);
  const shown = explained.slice(0, MESSAGE_DETAILS).map((d, index) => {
    const where = d.path || context.what;
    const text = where ? `${where}: ${d.message}` : d.message;
    return index === 0 ? text : `${d.or ? ", or " : "; "}${text}`;
  });
  const more = explained.length - shown.length;
  const message =
    shown.length === 0
      ? "invalid request"
      : `${shown.join("")}${more > 0 ? `; and ${more} more (see details)` : ""}`;
  const details = explained.map(({ path, message }) => ({ path, message }));
  return new AppError("validation_failed", message, details);
}

/** zod's issues as details, each naming a field; see the module header. */
export function explainIssues(
  issues: readonly Issue[],
  input: unknown,
  schema?: z.ZodType,
): ValidationDetail[] {
  return explainAll(issues, input, schema).map(({ path, message }) => ({ path, message }));
}

function explainAll(issues: readonly Issue[], input: unknown, schema?: z.ZodType): Explained[] {
  const details = issues.flatMap((issue) => explain(issue, [], input, schema));
  const seen = new Set<string>();
  return details.filter((d) => {
    const key = `${d.path}\n${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One issue found at `base` (the path of the schema it came from) as details. */
function explain(issue: Issue, base: Path, input: unknown, schema?: z.ZodType): Explained[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case "invalid_union":
      return explainUnion(issue, path, input, schemaAt(schema, issue.path));
    case "unrecognized_keys":
      // zod puts these at the object; the key itself is the field to name.
      return issue.keys.map((key) => ({
        path: render([...path, key]),
        message: "unknown field",
      }));
    case "invalid_type": {
      const missing = valueAt(input, path) === undefined;
      if (missing) return [{ path: render(path), message: "required" }];
      return [{ path: render(path), message: withoutPrefix(issue.message) }];
    }
    default:
      return [{ path: render(path), message: withoutPrefix(issue.message) }];
  }
}

function explainUnion(
  issue: z.core.$ZodIssueInvalidUnion,
  path: Path,
  input: unknown,
  union: z.ZodType | undefined,
): Explained[] {
  // A discriminated union whose discriminator matched nothing: zod's path already ends
  // at the discriminator and its message lists the values.
  if (issue.errors.length === 0) {
    const missing = valueAt(input, path) === undefined;
    const options = (issue as { options?: unknown[] }).options;
    const expected = options?.length ? `one of ${options.map(quote).join(", ")}` : undefined;
    const message = expected
      ? `${missing ? "required: " : "expected "}${expected}`
      : withoutPrefix(issue.message);
    return [{ path: render(path), message }];
  }
  const options = unionOptions(union);
  const branches = issue.errors.map((branchIssues, index) => ({
    details: branchIssues.flatMap((i) => explain(i, path, input, options?.[index])),
    issues: branchIssues,
    known: knownKeys(options?.[index], valueAt(input, path)),
  }));

  // `1 | 2`, `"a" | "b"`: each branch refused the value itself.
  const values = branches.every(
    (b) => b.issues.length === 1 && b.issues[0]?.path.length === 0 && isValueIssue(b.issues[0]),
  );
  if (values) {
    const expected = branches.flatMap((b) => expectedOf(b.issues[0] as Issue));
    if (valueAt(input, path) === undefined) return [{ path: render(path), message: "required" }];
    return [{ path: render(path), message: `expected ${orList(expected)}` }];
  }

  const best = Math.max(...branches.map((b) => b.known));
  const likely = branches.filter((b) => b.known === best);
  const fewest = Math.min(...likely.map((b) => b.details.length));
  const chosen = likely.filter((b) => b.details.length === fewest);
  if (chosen.length === 1) return chosen[0]?.details ?? [];
  // Still a tie: say each way the body could have been right.
  return chosen.flatMap((b, index) =>
    b.details.map((d, i) => ({ ...d, or: index > 0 && i === 0 })),
  );
}

function isValueIssue(issue: Issue | undefined): boolean {
  return issue?.code === "invalid_value" || issue?.code === "invalid_type";
}

function expectedOf(issue: Issue): string[] {
  if (issue.code === "invalid_value") return issue.values.map(quote);
  if (issue.code === "invalid_type") return [issue.expected];
  return [];
}

function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "a valid value";
  return `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** "Invalid input: expected string, received number" → "expected string, received number". */
function withoutPrefix(message: string): string {
  return message.replace(/^Invalid (input|option): /, "");
}

/** A dotted path: `entries.0.message`; "" for the whole value. */
function render(path: Path): string {
  return path.map(String).join(".");
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

// --- Reading the schema: just enough to follow a path and list a union's branches. ---
// zod 4 keeps each schema's definition in `_zod.def`; wrappers name their inner schema.

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType | undefined): Def | undefined =>
  (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The schema itself once optional/nullable/default/pipe/lazy wrappers are taken off. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let depth = 0; depth < 16; depth += 1) {
    const def = defOf(current);
    if (!def) return current;
    if (def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else if (def.type === "lazy" && def.getter) current = def.getter();
    else return current;
  }
  return current;
}

function schemaAt(schema: z.ZodType | undefined, path: Path): z.ZodType | undefined {
  let current = unwrap(schema);
  for (const key of path) {
    const def = defOf(current);
    if (!def) return undefined;
    if (def.type === "object" && def.shape) current = unwrap(def.shape[String(key)]);
    else if (def.type === "array") current = unwrap(def.element);
    else if (def.type === "record") current = unwrap(def.valueType);
    else return undefined;
  }
  return current;
}

function unionOptions(schema: z.ZodType | undefined): (z.ZodType | undefined)[] | undefined {
  const def = defOf(unwrap(schema));
  return def?.type === "union" ? def.options?.map(unwrap) : undefined;
}

/** How many of the value's own keys the (object) branch knows: its affinity to the value. */
function knownKeys(branch: z.ZodType | undefined, value: unknown): number {
  const shape = defOf(branch)?.shape;
  if (!shape || value === null || typeof value !== "object" || Array.isArray(value)) return 0;
  return Object.keys(value).filter((key) => key in shape).length;
}
