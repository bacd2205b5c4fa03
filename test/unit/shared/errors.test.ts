import { describe, expect, test } from "bun:test";
import { AppError, HTTP_STATUS } from "../../../src/shared/errors.ts";
import { ERROR_CODES, ErrorBody } from "../../../src/shared/protocol/common.ts";

describe("AppError", () => {
  test("every code has exactly one status", () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    expect(new AppError("conflict", "x").status).toBe(409);
    expect(new AppError("borg_failed", "x").status).toBe(502);
  });

  test("renders the one error body, details only when given", () => {
    expect(new AppError("not_found", "no repo r1").toBody()).toEqual({
      error: "no repo r1",
      code: "not_found",
    });
    const body = new AppError("validation_failed", "bad", [{ path: "name" }]).toBody();
    expect(ErrorBody.parse(body)).toEqual(body);
    expect(body.details).toEqual([{ path: "name" }]);
  });
});
