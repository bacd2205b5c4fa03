/** zod validation for every request part; failures become the one error shape, 400. */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "../../shared/errors.ts";
import { validationError } from "../../shared/validation-error.ts";

export const validate = <S extends z.ZodType, T extends keyof ValidationTargets>(
  target: T,
  schema: S,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(result.error.issues);
  });

/** A positive integer id from the path, 404 (not 400) when it isn't one: ids are opaque. */
export function idParam(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0 || String(id) !== value) {
    throw new AppError("not_found", `no ${what} ${value}`);
  }
  return id;
}
