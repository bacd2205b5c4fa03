/**
 * zod validation for every request part, for every role's app; failures become the one
 * error shape, 400. JSON bodies must be valid UTF-8: Request.json() would quietly turn
 * bad bytes into U+FFFD, so "/etc/\xc3\x28" would be stored (or handed to borg as a
 * passphrase) as something other than what was sent. Such a body is refused instead.
 *
 * Each part is read as hono's own validator reads it (a JSON body only under a JSON media
 * type, else {}; malformed JSON is hono's 400; a query key given once is a string, given
 * twice an array) and parsed synchronously, in one middleware frame: the agent runtime's
 * polls and heartbeats run this on every request, and hono's validator plus
 * @hono/zod-validator took three async frames and an async parse for the same answer.
 * A schema with async checks (none today) is still parsed, asynchronously. A query that
 * validated is remembered by its raw text (memoizedQuery, below).
 */
import type { zValidator } from "@hono/zod-validator";
import type { Context, Env, MiddlewareHandler, Next, ValidationTargets } from "hono";
import { getCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { validationError } from "../validation-error.ts";

// The media types hono's json validator reads (anything else validates as {}).
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

const mediaTypeOf = (c: Context) =>
  (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/** The JSON body, refused when it is not valid UTF-8 or not JSON; {} under another media type. */
async function jsonBody(c: Context): Promise<unknown> {
  if (!JSON_MEDIA_TYPE.test(mediaTypeOf(c))) return {};
  // Hono caches the bytes: a middleware before this one (borg-ui-agent.ts) may have read them.
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("validation_failed", "request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: "Malformed JSON in request body" });
  }
}

/** The query as hono's validator shows it: one value as a string, repeated ones as an array. */
function queryObject(c: Context): Record<string, string | string[]> {
  const value: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(c.req.queries())) {
    value[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return value;
}

/** The parts read without awaiting anything. */
function syncPart(c: Context, target: keyof ValidationTargets): unknown {
  switch (target) {
    case "query":
      return queryObject(c);
    case "param":
      return c.req.param();
    case "header":
      return c.req.header();
    case "cookie":
      return getCookie(c);
    default:
      throw new Error(`validate: unsupported target ${target}`);
  }
}

/** What a problem with the whole of a request part is called in the message. */
const TARGET_NAMES: Partial<Record<keyof ValidationTargets, string>> = {
  json: "request body",
  query: "query",
  param: "path",
  header: "headers",
  form: "form",
};

export const validate = <S extends z.ZodType, T extends keyof ValidationTargets>(
  target: T,
  schema: S,
): ReturnType<typeof zValidator<S, T, Env, string>> => {
  const what = TARGET_NAMES[target] ?? String(target);
  const refuse = (issues: z.core.$ZodIssue[], input: unknown) =>
    // The input and the schema let the error name the field inside a union's branch.
    validationError(issues, { input, schema, what });

  const accept = (
    c: Context,
    input: unknown,
    next: Next,
    remember?: (data: object) => void,
  ): Promise<void> => {
    let result: z.ZodSafeParseResult<z.output<S>>;
    try {
      result = schema.safeParse(input);
    } catch (error) {
      if (!(error instanceof z.core.$ZodAsyncError)) throw error;
      return schema.safeParseAsync(input).then((late) => {
        if (!late.success) throw refuse(late.error.issues, input);
        c.req.addValidatedData(target, late.data as object);
        return next();
      });
    }
    if (!result.success) throw refuse(result.error.issues, input);
    remember?.(result.data as object);
    c.req.addValidatedData(target, result.data as object);
    return next();
  };

  if (target === "form") throw new Error("validate: form bodies are not read by any route");
  const middleware: MiddlewareHandler =
    target === "json"
      ? async (c, next) => accept(c, await jsonBody(c), next)
      : target === "query"
        ? memoizedQuery(accept)
        : (c, next) => accept(c, syncPart(c, target), next);
  // Typed as @hono/zod-validator's middleware, so routes keep their typed c.req.valid(target).
  return middleware as ReturnType<typeof zValidator<S, T, Env, string>>;
};

/** How many validated queries one route's validator keeps, and the longest it keeps. */
const QUERY_MEMO_ENTRIES = 64;
const QUERY_MEMO_MAX_LENGTH = 256;

/**
 * The query validator, remembering what each raw query string validated as: a fleet's
 * agents send the same few (`wait=25`) on every poll, and parsing plus zod was a sixth
 * of an empty poll's CPU. Only a query that passed is kept, frozen so that no route can
 * change what the next request gets; the map is small and starts over when full, so odd
 * queries only cost a parse. Pure: zod schemas here have no effects.
 */
function memoizedQuery(
  accept: (
    c: Context,
    input: unknown,
    next: Next,
    remember?: (data: object) => void,
  ) => Promise<void>,
): MiddlewareHandler {
  const memo = new Map<string, object>();
  return (c, next) => {
    const url = c.req.url;
    const at = url.indexOf("?");
    const raw = at < 0 ? "" : url.slice(at + 1);
    const known = memo.get(raw);
    if (known !== undefined) {
      c.req.addValidatedData("query", known);
      return next();
    }
    if (raw.length > QUERY_MEMO_MAX_LENGTH) return accept(c, queryObject(c), next);
    return accept(c, queryObject(c), next, (data) => {
      if (memo.size >= QUERY_MEMO_ENTRIES) memo.clear();
      memo.set(raw, Object.freeze(data));
    });
  };
}
