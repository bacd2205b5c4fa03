/**
 * zod validation for every request part, for every role's app; failures become the one
 * error shape, 400. JSON bodies must be valid UTF-8: Request.json() would quietly turn
 * bad bytes into U+FFFD, so "/etc/\xc3\x28" would be stored (or handed to borg as a
 * passphrase) as something other than what was sent. Such a body is refused instead.
 */
import { zValidator } from "@hono/zod-validator";
import type { Context, ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "../errors.ts";
import { validationError } from "../validation-error.ts";

// The media types hono's json validator reads (anything else validates as {}).
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Refuses a JSON body that is not valid UTF-8; other bodies are not read here. */
async function assertUtf8JsonBody(c: Context): Promise<void> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) return;
  // Hono caches the bytes, so the validator's c.req.json() parses these same bytes.
  const bytes = await c.req.arrayBuffer();
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("validation_failed", "request body is not valid UTF-8");
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
) => {
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) {
      // The input and the schema let the error name the field inside a union's branch.
      throw validationError(result.error.issues, {
        input: result.data,
        schema,
        what: TARGET_NAMES[target] ?? String(target),
      });
    }
  });
  // Same type as the validator itself, so routes keep their typed c.req.valid(target).
  const checked: typeof validator = async (c, next) => {
    if (target === "json") await assertUtf8JsonBody(c);
    return validator(c, next);
  };
  return checked;
};
