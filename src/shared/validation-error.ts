/** One way to turn zod's issues into the API's 400: the first issue as the message, all as details. */
import type { z } from "zod";
import { AppError } from "./errors.ts";

export function validationError(issues: readonly z.core.$ZodIssue[]): AppError {
  const details = issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  const first = details[0];
  const message = first
    ? `${first.path ? `${first.path}: ` : ""}${first.message}`
    : "invalid request";
  return new AppError("validation_failed", message, details);
}
