import { describe, expect, test } from "bun:test";
import { colorWanted, createLogger, REDACTED, Redactor } from "../../../src/shared/log.ts";

function capture(level: "debug" | "info" = "info", color = false) {
  const lines: string[] = [];
  const logger = createLogger({ level, color, write: (line) => lines.push(line) });
  return { logger, lines };
}

describe("logger", () => {
  test("one line per event with level, tag and fields", () => {
    const { logger, lines } = capture();
    logger
      .child("http")
      .info("request", { method: "GET", path: "/api/v1/repos", status: 200, ms: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT.*Z info \[http\] request method=GET path=\/api\/v1\/repos status=200 ms=3$/,
    );
  });

  test("registered secrets never reach a line, in messages or fields", () => {
    const { logger, lines } = capture();
    logger.redactor.add("s3cret-passphrase");
    logger.error("borg said s3cret-passphrase is wrong", {
      env: { BORG_PASSPHRASE: "s3cret-passphrase" },
    });
    expect(lines.join("\n")).not.toContain("s3cret-passphrase");
    expect(lines[0]).toContain(REDACTED);
  });

  test("levels filter", () => {
    const { logger, lines } = capture("info");
    logger.debug("hidden");
    logger.warn("shown");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("warn");
  });

  test("colour only when wanted; NO_COLOR wins", () => {
    expect(colorWanted({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colorWanted({ NO_COLOR: "yes" }, true)).toBe(false);
    expect(colorWanted({ TERM: "dumb" }, true)).toBe(false);
    expect(colorWanted({}, false)).toBe(false);
    expect(colorWanted({ TERM: "xterm" }, true)).toBe(true);
    const plain = capture("info", false);
    plain.logger.info("x");
    expect(plain.lines[0]).not.toContain("\x1b[");
    const coloured = capture("info", true);
    coloured.logger.info("x");
    expect(coloured.lines[0]).toContain("\x1b[");
  });
});

describe("Redactor", () => {
  test("longest secret first; short strings are not registered", () => {
    const redactor = new Redactor();
    redactor.add("abcd");
    redactor.add("abcdef");
    redactor.add("ab");
    expect(redactor.redact("x abcdef y abcd z ab")).toBe(`x ${REDACTED} y ${REDACTED} z ab`);
    redactor.remove("abcdef");
    expect(redactor.redact("abcdef")).toBe(`${REDACTED}ef`);
  });

  test("a secret registered twice stays until removed twice", () => {
    const redactor = new Redactor();
    redactor.add("passphrase-1");
    redactor.add("passphrase-1");
    redactor.remove("passphrase-1");
    expect(redactor.redact("passphrase-1")).toBe(REDACTED);
    redactor.remove("passphrase-1");
    expect(redactor.redact("passphrase-1")).toBe("passphrase-1");
  });
});
