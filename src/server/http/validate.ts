/**
 * zod validation for every request part; failures become the one error shape, 400.
 * JSON bodies (user API and agent runtime alike) must be valid UTF-8: Request.json()
 * would quietly turn bad bytes into U+FFFD, so "/etc/\xc3\x28" would be stored as a
 * different path than the one sent. Such a body is refused instead.
 */
import { zValidator } from "@hono/zod-validator";
import type { Context, ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "../../shared/errors.ts";
import { validationError } from "../../shared/validation-error.ts";

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

export const validate = <S extends z.ZodType, T extends keyof ValidationTargets>(
  target: T,
  schema: S,
) => {
  const validator = zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(result.error.issues);
  });
  // Same type as the validator itself, so routes keep their typed c.req.valid(target).
  const checked: typeof validator = async (c, next) => {
    if (target === "json") await assertUtf8JsonBody(c);
    return validator(c, next);
  };
  return checked;
};

/** A positive integer id from the path, 404 (not 400) when it isn't one: ids are opaque. */
export function idParam(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0 || String(id) !== value) {
    throw new AppError("not_found", `no ${what} ${value}`);
  }
  return id;
}
