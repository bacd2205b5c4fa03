import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { validationError } from "../../../src/shared/validation-error.ts";

describe("validationError", () => {
  test("the first issue is the message, every issue a detail with its path", () => {
    const result = z
      .strictObject({ name: z.string(), keep: z.number() })
      .safeParse({ keep: "x", extra: 1 });
    if (result.success) throw new Error("expected a failure");
    const error = validationError(result.error.issues);
    expect(error.code).toBe("validation_failed");
    expect(error.status).toBe(400);
    expect(error.message).toStartWith("name: ");
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual(["name", "keep", ""]);
  });
});
