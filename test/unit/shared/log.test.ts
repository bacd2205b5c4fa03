import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  colorWanted,
  createLogger,
  REDACTED,
  Redactor,
  secretVariants,
} from "../../../src/shared/log.ts";

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

// Secrets built around two markers that appear nowhere else: a redaction that leaves a
// piece of the secret behind leaves a marker behind.
const HEAD = "Zq7h";
const TAIL = "Xk9t";
const TRICKY = [
  "pa\\ss",
  "back\\\\slash",
  "it's",
  "pa\\ss'wo\"rd",
  "tab\there\nline\r",
  "ünïcødé-päss",
  "emoji😀pass",
  "zero\u200bwidth\u00a0nbsp\u00adsoft",
  "del\u007fbell\u0007",
  "space pass+plus&amp=eq/slash?q#h%25",
  "astral\u{e0001}tag",
  "re.*+?^$\u007b}()|[]-/gex",
].map((core) => `${HEAD}${core}${TAIL}`);

const leaks = (text: string) => text.includes(HEAD) || text.includes(TAIL);

/** How Python itself prints each secret: what borg (a Python program) would write. */
function pythonForms(secrets: string[]): string[][] {
  const script = `
import json, shlex, sys, urllib.parse
out = []
for s in json.load(sys.stdin):
    forms = [
        repr(s), repr(s.encode()), str([s]), repr(f"/srv/{s}/data"), repr(f"it's {s}"),
        json.dumps(s), json.dumps(s, ensure_ascii=False), shlex.quote(s),
        shlex.quote(f"--passphrase={s}"),
        urllib.parse.quote(s), urllib.parse.quote_plus(s), urllib.parse.quote(s, safe=""),
        json.dumps({"type": "log_message", "message": f"{s!r}: [Errno 2] No such file"}),
        json.dumps({"message": repr(s)}, ensure_ascii=False),
    ]
    out.append(forms)
json.dump(out, sys.stdout)
`;
  const run = Bun.spawnSync(["python3", "-c", script], {
    stdin: new TextEncoder().encode(JSON.stringify(secrets)),
  });
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout.toString());
}

describe("Redactor: escaped and encoded forms", () => {
  test("every form Python prints a secret in is redacted whole", () => {
    const forms = pythonForms(TRICKY);
    TRICKY.forEach((secret, i) => {
      const redactor = new Redactor();
      redactor.add(secret);
      for (const form of forms[i] ?? []) {
        const line = `borg: ${form} (end)`;
        const redacted = redactor.redact(line);
        if (leaks(redacted)) throw new Error(`leaked ${JSON.stringify(secret)} in ${redacted}`);
        expect(redacted).toContain(REDACTED);
        expect(redacted.startsWith("borg: ") && redacted.endsWith(" (end)")).toBe(true);
      }
    });
  });

  test("JSON, shell-quoted and URL-encoded forms from JavaScript", () => {
    const secret = `${HEAD}a'b\\c"d e&f${TAIL}`;
    const redactor = new Redactor();
    redactor.add(secret);
    const forms = [
      JSON.stringify(secret),
      JSON.stringify({ env: { BORG_PASSPHRASE: secret } }),
      `'${secret.replaceAll("'", "'\\''")}'`,
      encodeURIComponent(secret),
      new URLSearchParams({ passphrase: secret }).toString(),
      `ssh://u:${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase())}@host/repo`,
    ];
    for (const form of forms) expect(leaks(redactor.redact(form))).toBe(false);
    expect(redactor.redact(`'${secret.replaceAll("'", "'\\''")}'`)).toBe(`'${REDACTED}'`);
  });

  test("a plain secret has one form; the forms of a tricky one are computed once, on add", () => {
    expect(secretVariants("plainpassphrase123")).toEqual(["plainpassphrase123"]);
    expect(secretVariants("a\\bcd")).toEqual(
      expect.arrayContaining(["a\\bcd", "a\\\\bcd", "a%5Cbcd", "a%5cbcd", "a\\\\\\\\bcd"]),
    );
    const redactor = new Redactor();
    redactor.add("a\\bcd");
    redactor.add("a\\bcd");
    redactor.remove("a\\bcd");
    expect(redactor.redact("x a\\\\bcd y")).toBe(`x ${REDACTED} y`);
    redactor.remove("a\\bcd");
    expect(redactor.redact("x a\\\\bcd y")).toBe("x a\\\\bcd y");
  });

  test("overlapping secrets and forms are replaced as one span, leaving no piece", () => {
    const redactor = new Redactor();
    redactor.add("1234abcd");
    redactor.add("abcd5678");
    expect(redactor.redact("x 1234abcd5678 y")).toBe(`x ${REDACTED} y`);
    // Side by side, they stay two.
    expect(redactor.redact("1234abcdabcd5678")).toBe(`${REDACTED}${REDACTED}`);
  });

  test("property: a secret in any of its JSON, shell or URL forms never survives", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 0, maxLength: 24 }).filter((s) => s.isWellFormed()),
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        (core, before, after) => {
          const secret = `${HEAD}${core}${TAIL}`;
          fc.pre(!leaks(before) && !leaks(after) && !/[ZX]/.test(before + after));
          const redactor = new Redactor();
          redactor.add(secret);
          const forms = [
            secret,
            JSON.stringify(secret).slice(1, -1),
            secret.replaceAll("'", "'\\''"),
            encodeURIComponent(secret),
            new URLSearchParams({ k: secret }).toString().slice(2),
          ];
          for (const form of forms) {
            if (leaks(redactor.redact(`${before}${form}${after}`))) return false;
          }
          return true;
        },
      ),
    );
  });
});
