import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { LogsRequest, RegisterRequest } from "../../../src/shared/protocol/agent.ts";
import { validationError } from "../../../src/shared/validation-error.ts";

/** The 400 a schema's failure on `input` becomes, as the validator builds it. */
function refusal(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected a failure");
  const error = validationError(result.error.issues, { input, schema, what: "request body" });
  return { error, details: error.details as { path: string; message: string }[] };
}

describe("validationError", () => {
  test("every issue a detail with its path; an unknown key is named as the field", () => {
    const { error, details } = refusal(z.strictObject({ name: z.string(), keep: z.number() }), {
      keep: "x",
      extra: 1,
    });
    expect(error.code).toBe("validation_failed");
    expect(error.status).toBe(400);
    expect(details).toEqual([
      { path: "name", message: "required" },
      { path: "keep", message: "expected number, received string" },
      { path: "extra", message: "unknown field" },
    ]);
    expect(error.message).toBe(
      "name: required; keep: expected number, received string; extra: unknown field",
    );
  });

  test("more than three problems: three in the message, the rest counted", () => {
    const { error, details } = refusal(RegisterRequest, { enrollment_token: "t" });
    expect(details.map((d) => d.path)).toEqual([
      "hostname",
      "os",
      "arch",
      "agent_version",
      "borg_versions",
      "capabilities",
    ]);
    expect(error.message).toBe(
      "hostname: required; os: required; arch: required; and 3 more (see details)",
    );
  });

  test("a whole body of the wrong type names the request part", () => {
    const { error, details } = refusal(RegisterRequest, [1, 2]);
    expect(details).toEqual([{ path: "", message: "expected object, received array" }]);
    expect(error.message).toBe("request body: expected object, received array");
  });

  describe("a union names the field inside the branch the body was meant for", () => {
    test("one log entry without its message", () => {
      const { error } = refusal(LogsRequest, { sequence: 1, stream: "stdout" });
      expect(error.message).toBe("message: required");
    });

    test("a batch whose second entry has a bad stream", () => {
      const { details } = refusal(LogsRequest, {
        entries: [
          { sequence: 1, stream: "stdout", message: "a" },
          { sequence: 2, stream: "tty", message: "b" },
        ],
      });
      expect(details).toEqual([
        { path: "entries.1.stream", message: 'expected one of "stdout"|"stderr"|"agent"' },
      ]);
    });

    test("one entry with a wrong type: the entry's field, not a missing `entries`", () => {
      const { details } = refusal(LogsRequest, { sequence: "1", stream: "stdout", message: "m" });
      expect(details).toEqual([{ path: "sequence", message: "expected number, received string" }]);
    });

    test("a tie says each way the body could have been right", () => {
      const schema = z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]);
      const { error, details } = refusal(schema, {});
      expect(details).toEqual([
        { path: "a", message: "required" },
        { path: "b", message: "required" },
      ]);
      expect(error.message).toBe("a: required, or b: required");
    });

    test("a union of values becomes one list of what is allowed", () => {
      const schema = z.object({ v: z.union([z.literal(1), z.literal(2)]) });
      expect(refusal(schema, { v: 3 }).details).toEqual([
        { path: "v", message: "expected 1 or 2" },
      ]);
      expect(refusal(schema, {}).details).toEqual([{ path: "v", message: "required" }]);
    });

    test("a discriminated union: an unknown or missing discriminator lists the kinds", () => {
      const schema = z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("a"), x: z.string() }),
        z.object({ kind: z.literal("b"), y: z.number() }),
      ]);
      expect(refusal(schema, { kind: "c" }).details).toEqual([
        { path: "kind", message: 'expected one of "a", "b"' },
      ]);
      expect(refusal(schema, {}).details).toEqual([
        { path: "kind", message: 'required: one of "a", "b"' },
      ]);
      // A known kind: its own branch's fields.
      expect(refusal(schema, { kind: "b", y: "1" }).details).toEqual([
        { path: "y", message: "expected number, received string" },
      ]);
    });

    test("nested inside an object and an array, the full path", () => {
      const schema = z.object({
        items: z.array(z.union([z.object({ a: z.string() }), z.object({ b: z.number() })])),
      });
      const { details } = refusal(schema, { items: [{ a: "ok" }, { b: "x" }] });
      expect(details).toEqual([{ path: "items.1.b", message: "expected number, received string" }]);
    });
  });

  test("no input value ever appears in a message", () => {
    const secret = "s3cr3t-passphrase-value";
    const { error } = refusal(z.strictObject({ passphrase: z.string().max(5) }), {
      passphrase: secret,
      [secret]: 1,
    });
    // The unknown key is named (keys are field names), the value never is.
    expect(JSON.stringify(error.details).split(secret).length - 1).toBe(1);
    expect(error.message).not.toContain(`${secret}"`);
  });
});
