import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBox } from "../../../../src/server/services/secret-box.ts";
import { AppError } from "../../../../src/shared/errors.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("SecretBox", () => {
  test("round-trips, with a fresh IV each time, and no plaintext in the sealed text", () => {
    const box = SecretBox.fromKey(Buffer.alloc(32, 1));
    const a = box.encrypt("correct horse battery staple");
    const b = box.encrypt("correct horse battery staple");
    expect(a).not.toBe(b);
    expect(a.startsWith("v1:")).toBe(true);
    expect(a).not.toContain("horse");
    expect(box.decrypt(a)).toBe("correct horse battery staple");
  });

  test("another key or a tampered value cannot be read", () => {
    const sealed = SecretBox.fromKey(Buffer.alloc(32, 1)).encrypt("secret");
    expect(() => SecretBox.fromKey(Buffer.alloc(32, 2)).decrypt(sealed)).toThrow(AppError);
    const raw = Buffer.from(sealed.slice(3), "base64");
    raw[14] = (raw[14] ?? 0) ^ 1;
    expect(() =>
      SecretBox.fromKey(Buffer.alloc(32, 1)).decrypt(`v1:${raw.toString("base64")}`),
    ).toThrow(AppError);
  });

  test("keys as hex or base64; anything else is refused", () => {
    const hex = Buffer.alloc(32, 3).toString("hex");
    const b64 = Buffer.alloc(32, 3).toString("base64");
    expect(SecretBox.fromText(hex).decrypt(SecretBox.fromText(b64).encrypt("x"))).toBe("x");
    expect(() => SecretBox.fromText("too-short")).toThrow(/32 bytes/);
  });

  test("the key file is created 0600 on first use and reused after", async () => {
    const dir = await mkdtemp(join(tmpdir(), "borgctl-key-"));
    dirs.push(dir);
    const path = join(dir, "secret.key");
    const sealed = SecretBox.fromFile(path).encrypt("kept");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = await readFile(path, "utf8");
    expect(SecretBox.fromFile(path).decrypt(sealed)).toBe("kept");
    expect(await readFile(path, "utf8")).toBe(first);
  });
});
