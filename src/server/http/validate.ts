/**
 * The hub's request-part helpers for route files: `validate` is the shared one (zod, the
 * one 400 shape, strict UTF-8 for JSON bodies: src/shared/http/validate.ts); `idParam`
 * is the hub's own, since only the hub names resources by integer id.
 */
import { AppError } from "../../shared/errors.ts";

export { validate } from "../../shared/http/validate.ts";

/** A positive integer id from the path, 404 (not 400) when it isn't one: ids are opaque. */
export function idParam(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0 || String(id) !== value) {
    throw new AppError("not_found", `no ${what} ${value}`);
  }
  return id;
}
