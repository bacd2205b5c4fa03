/**
 * parseSshPublicKey against real ssh-keygen keys (test/fixtures/ssh-keys, public halves
 * only) and against hand-built blobs for every way a submitted key can be wrong.
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import {
  MAX_SSH_KEY_INPUT_LENGTH,
  parseSshPublicKey,
  SSH_KEY_TYPES,
  type SshKeyResult,
} from "../../../src/shared/ssh-key.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/ssh-keys");
const fixtureLine = (name: string) => readFileSync(join(FIXTURES, `${name}.pub`), "utf8");
const fixtureField = (name: string, index: number) =>
  fixtureLine(name).trim().split(" ")[index] ?? "";
const fixtureFingerprint = (name: string) =>
  readFileSync(join(FIXTURES, `${name}.fingerprint`), "utf8").trim();

/** SSH wire-format string: uint32 big-endian length, then the bytes. */
function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "latin1") : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

const keyLine = (type: string, blob: Buffer, comment = "test@host") =>
  `${type} ${blob.toString("base64")} ${comment}`;

function ed25519PublicKeyBytes(): Buffer {
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url");
}

function p256Point(): Buffer {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
    format: "jwk",
  });
  return Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x ?? "", "base64url"),
    Buffer.from(jwk.y ?? "", "base64url"),
  ]);
}

/** The blob of the real rsa-2048 fixture split into its fields, to rebuild variants. */
function rsaFixtureFields(): { e: Buffer; n: Buffer } {
  const blob = Buffer.from(fixtureField("rsa-2048", 1), "base64");
  let offset = 0;
  const next = () => {
    const length = blob.readUInt32BE(offset);
    const value = blob.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  next(); // type
  return { e: next(), n: next() };
}

function expectRefused(result: SshKeyResult, reason: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toMatch(reason);
}

function expectAccepted(result: SshKeyResult) {
  if (!result.ok) throw new Error(`expected the key to be accepted, got: ${result.reason}`);
  return result.key;
}

const REAL_FIXTURES: { name: string; type: string; bits?: number }[] = [
  { name: "ed25519", type: "ssh-ed25519" },
  { name: "ecdsa-256", type: "ecdsa-sha2-nistp256" },
  { name: "ecdsa-384", type: "ecdsa-sha2-nistp384" },
  { name: "ecdsa-521", type: "ecdsa-sha2-nistp521" },
  { name: "rsa-2048", type: "ssh-rsa", bits: 2048 },
  { name: "rsa-3072", type: "ssh-rsa", bits: 3072 },
  // Synthetic security-key keys (see the fixture README); ssh-keygen -lf accepts them.
  { name: "sk-ed25519", type: "sk-ssh-ed25519@openssh.com" },
  { name: "sk-ecdsa-256", type: "sk-ecdsa-sha2-nistp256@openssh.com" },
];

describe("parseSshPublicKey accepts", () => {
  test("the supported type list is exactly the documented one", () => {
    expect([...SSH_KEY_TYPES].sort()).toEqual(
      [
        "ssh-ed25519",
        "sk-ssh-ed25519@openssh.com",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-rsa",
      ].sort(),
    );
  });

  for (const fixture of REAL_FIXTURES) {
    test(`${fixture.name}.pub: type, base64, comment, bits and the fingerprint ssh-keygen printed`, () => {
      const key = expectAccepted(parseSshPublicKey(fixtureLine(fixture.name)));
      expect(key.type).toBe(fixture.type);
      expect(key.base64).toBe(fixtureField(fixture.name, 1));
      expect(key.comment).toBe(`fixture-${fixture.name}@borgctl`);
      expect(key.bits).toBe(fixture.bits);
      expect(key.fingerprint).toBe(fixtureFingerprint(fixture.name));
    });
  }

  test("fingerprints equal what ssh-keygen -lf prints right now", async () => {
    for (const fixture of REAL_FIXTURES) {
      const result = await runProcess({
        argv: ["ssh-keygen", "-lf", join(FIXTURES, `${fixture.name}.pub`)],
        captureStdout: true,
      });
      expect(result.exitCode).toBe(0);
      const printed = result.stdout.split(" ")[1];
      const key = expectAccepted(parseSshPublicKey(fixtureLine(fixture.name)));
      expect(key.fingerprint).toBe(printed ?? "<missing>");
    }
  });

  test("a synthetic sk-ssh-ed25519 blob (key + application)", () => {
    const blob = Buffer.concat([
      sshString("sk-ssh-ed25519@openssh.com"),
      sshString(ed25519PublicKeyBytes()),
      sshString("ssh:"),
    ]);
    const key = expectAccepted(parseSshPublicKey(keyLine("sk-ssh-ed25519@openssh.com", blob)));
    expect(key.type).toBe("sk-ssh-ed25519@openssh.com");
    expect(key.base64).toBe(blob.toString("base64"));
  });

  test("a line without a comment, and one trailing newline", () => {
    const [type, base64] = [fixtureField("ed25519", 0), fixtureField("ed25519", 1)];
    expect(expectAccepted(parseSshPublicKey(`${type} ${base64}`)).comment).toBe("");
    expect(expectAccepted(parseSshPublicKey(`${type} ${base64}\n`)).base64).toBe(base64);
  });

  test("the comment keeps only [A-Za-z0-9@._+-], at most 64 characters", () => {
    const [type, base64] = [fixtureField("ed25519", 0), fixtureField("ed25519", 1)];
    const hostile = parseSshPublicKey(`${type} ${base64} me@host "; rm -rf / # borgbox:other`);
    expect(expectAccepted(hostile).comment).toBe("me@hostrm-rfborgboxother");
    const long = parseSshPublicKey(`${type} ${base64} ${"a".repeat(200)}`);
    expect(expectAccepted(long).comment).toBe("a".repeat(64));
  });
});

describe("parseSshPublicKey refuses", () => {
  const ed = fixtureLine("ed25519").trim();
  const [edType, edBase64] = [fixtureField("ed25519", 0), fixtureField("ed25519", 1)];

  test("empty input and whitespace only", () => {
    expectRefused(parseSshPublicKey(""), /empty/);
    expectRefused(parseSshPublicKey("   "), /empty/);
    expectRefused(parseSshPublicKey("\n"), /empty/);
  });

  test("two lines, two trailing newlines, a CR, a NUL", () => {
    expectRefused(parseSshPublicKey(`${ed}\n${ed}`), /single line/);
    expectRefused(parseSshPublicKey(`${ed}\n\n`), /single line/);
    expectRefused(parseSshPublicKey(`${ed}\r\n`), /carriage return/);
    expectRefused(parseSshPublicKey(`${edType} ${edBase64}\rcommand="x"`), /carriage return/);
    expectRefused(parseSshPublicKey(`${ed}\0`), /NUL/);
  });

  test("non-ASCII and non-printable characters", () => {
    expectRefused(parseSshPublicKey(`${edType} ${edBase64} josé@host`), /printable ASCII/);
    expectRefused(parseSshPublicKey(`${edType}\t${edBase64}`), /printable ASCII/);
    expectRefused(parseSshPublicKey(`${ed}\x1b[31m`), /printable ASCII/);
  });

  test("option prefixes", () => {
    expectRefused(parseSshPublicKey(`command="x" ${ed}`), /options are not allowed/);
    expectRefused(parseSshPublicKey(`restrict ${ed}`), /options are not allowed/);
    expectRefused(parseSshPublicKey(`restrict,pty ${ed}`), /options are not allowed/);
    expectRefused(parseSshPublicKey(`no-pty ${ed}`), /options are not allowed/);
    expectRefused(
      parseSshPublicKey(`from="10.0.0.1",command="sh -c id" ${ed}`),
      /options are not allowed/,
    );
  });

  test("unknown types, DSA and certificates", () => {
    expectRefused(parseSshPublicKey(`ssh-foo ${edBase64}`), /unknown key type "ssh-foo"/);
    expectRefused(parseSshPublicKey(`ssh-dss ${edBase64}`), /DSA keys are not supported/);
    expectRefused(
      parseSshPublicKey(`ssh-ed25519-cert-v01@openssh.com ${edBase64}`),
      /certificates are not supported/,
    );
    expectRefused(parseSshPublicKey(`SSH-ED25519 ${edBase64}`), /unknown key type/);
  });

  test("a type with no base64 after it", () => {
    expectRefused(parseSshPublicKey("ssh-ed25519"), /no base64 data/);
  });

  test("an ed25519 blob labelled ssh-rsa (and the reverse)", () => {
    expectRefused(
      parseSshPublicKey(`ssh-rsa ${edBase64} x`),
      /labelled "ssh-rsa" but its data is "ssh-ed25519"/,
    );
    expectRefused(
      parseSshPublicKey(`ssh-ed25519 ${fixtureField("rsa-2048", 1)}`),
      /labelled "ssh-ed25519" but its data is "ssh-rsa"/,
    );
  });

  test("a truncated blob", () => {
    const blob = Buffer.from(edBase64, "base64");
    expectRefused(
      parseSshPublicKey(keyLine(edType, blob.subarray(0, blob.length - 5))),
      /truncated/,
    );
    expectRefused(parseSshPublicKey(keyLine(edType, blob.subarray(0, 2))), /truncated/);
    expectRefused(parseSshPublicKey(keyLine(edType, blob.subarray(0, 15))), /truncated/);
  });

  test("trailing garbage in the blob", () => {
    const blob = Buffer.concat([Buffer.from(edBase64, "base64"), Buffer.from([0, 0, 0, 0])]);
    expectRefused(parseSshPublicKey(keyLine(edType, blob)), /trailing bytes/);
  });

  test("base64 that only a lenient decoder would accept", () => {
    expectRefused(
      parseSshPublicKey(`${edType} ${edBase64.slice(0, 20)}!${edBase64.slice(21)}`),
      /base64/,
    );
    expectRefused(parseSshPublicKey(`${edType} ${edBase64}A`), /base64/);
    // ecdsa-256's blob is 104 bytes: one "=" of padding.
    const padded = fixtureField("ecdsa-256", 1);
    expect(padded.endsWith("=")).toBe(true);
    expectRefused(parseSshPublicKey(`ecdsa-sha2-nistp256 ${padded.slice(0, -1)}`), /base64/);
    // Same decoded bytes, but the unused low bits of the last character are set.
    const lastChar = padded.at(-2) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const sloppyChar = alphabet[alphabet.indexOf(lastChar) | 0b11] ?? "";
    expect(sloppyChar).not.toBe(lastChar);
    const sloppy = `${padded.slice(0, -2)}${sloppyChar}=`;
    expect(Buffer.from(sloppy, "base64")).toEqual(Buffer.from(padded, "base64"));
    expectRefused(parseSshPublicKey(`ecdsa-sha2-nistp256 ${sloppy}`), /base64/);
  });

  test("an RSA key of 1024 bits, saying how many bits and the fix", () => {
    const result = parseSshPublicKey(fixtureLine("rsa-1024"));
    expectRefused(result, /at least 2048 bits \(this one has 1024\)/);
    expectRefused(result, /ssh-keygen -t ed25519/);
  });

  test("RSA with a negative modulus or an even exponent", () => {
    const { e, n } = rsaFixtureFields();
    const negativeN = Buffer.from(n.subarray(1)); // drop the 0x00 that keeps it positive
    expect((negativeN[0] ?? 0) & 0x80).toBe(0x80);
    const negative = Buffer.concat([sshString("ssh-rsa"), sshString(e), sshString(negativeN)]);
    expectRefused(parseSshPublicKey(keyLine("ssh-rsa", negative)), /modulus is not a positive/);
    const even = Buffer.concat([
      sshString("ssh-rsa"),
      sshString(Buffer.from([0x01, 0x00, 0x00])),
      sshString(n),
    ]);
    expectRefused(parseSshPublicKey(keyLine("ssh-rsa", even)), /exponent is invalid/);
    const valid = Buffer.concat([sshString("ssh-rsa"), sshString(e), sshString(n)]);
    expect(expectAccepted(parseSshPublicKey(keyLine("ssh-rsa", valid))).bits).toBe(2048);
  });

  test("ed25519 keys of the wrong length", () => {
    const short = Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(31, 7))]);
    expectRefused(parseSshPublicKey(keyLine("ssh-ed25519", short)), /not 32 bytes/);
  });

  test("ECDSA with the wrong curve name, a malformed point, a point off the curve", () => {
    const point = p256Point();
    const wrongCurve = Buffer.concat([
      sshString("ecdsa-sha2-nistp256"),
      sshString("nistp384"),
      sshString(point),
    ]);
    expectRefused(parseSshPublicKey(keyLine("ecdsa-sha2-nistp256", wrongCurve)), /curve/);
    const compressed = Buffer.concat([Buffer.from([0x02]), point.subarray(1, 33)]);
    const malformed = Buffer.concat([
      sshString("ecdsa-sha2-nistp256"),
      sshString("nistp256"),
      sshString(compressed),
    ]);
    expectRefused(
      parseSshPublicKey(keyLine("ecdsa-sha2-nistp256", malformed)),
      /point is malformed/,
    );
    const offCurvePoint = Buffer.from(point);
    offCurvePoint[64] = (offCurvePoint[64] ?? 0) ^ 1;
    const offCurve = Buffer.concat([
      sshString("ecdsa-sha2-nistp256"),
      sshString("nistp256"),
      sshString(offCurvePoint),
    ]);
    expectRefused(parseSshPublicKey(keyLine("ecdsa-sha2-nistp256", offCurve)), /not on the curve/);
    const good = Buffer.concat([
      sshString("ecdsa-sha2-nistp256"),
      sshString("nistp256"),
      sshString(point),
    ]);
    expectAccepted(parseSshPublicKey(keyLine("ecdsa-sha2-nistp256", good)));
  });

  test("security keys without their application string", () => {
    const edNoApp = Buffer.concat([
      sshString("sk-ssh-ed25519@openssh.com"),
      sshString(ed25519PublicKeyBytes()),
    ]);
    expectRefused(parseSshPublicKey(keyLine("sk-ssh-ed25519@openssh.com", edNoApp)), /truncated/);
    const emptyApp = Buffer.concat([
      sshString("sk-ssh-ed25519@openssh.com"),
      sshString(ed25519PublicKeyBytes()),
      sshString(""),
    ]);
    expectRefused(
      parseSshPublicKey(keyLine("sk-ssh-ed25519@openssh.com", emptyApp)),
      /application/,
    );
    const ecNoApp = Buffer.concat([
      sshString("sk-ecdsa-sha2-nistp256@openssh.com"),
      sshString("nistp256"),
      sshString(p256Point()),
    ]);
    expectRefused(
      parseSshPublicKey(keyLine("sk-ecdsa-sha2-nistp256@openssh.com", ecNoApp)),
      /truncated/,
    );
  });

  test("input over 16 KiB, even when the key itself is fine", () => {
    const padded = `${ed} ${"a".repeat(MAX_SSH_KEY_INPUT_LENGTH)}`;
    expectRefused(parseSshPublicKey(padded), /too long/);
    const justFits = `${ed} ${"a".repeat(MAX_SSH_KEY_INPUT_LENGTH - ed.length - 1)}`;
    expect(justFits.length).toBe(MAX_SSH_KEY_INPUT_LENGTH);
    expectAccepted(parseSshPublicKey(justFits));
  });

  test("an unknown first token is echoed at most 40 characters long", () => {
    const result = parseSshPublicKey(`${"x".repeat(500)} ${edBase64}`);
    expectRefused(result, /unknown key type/);
    if (!result.ok) expect(result.reason.length).toBeLessThan(300);
  });
});
