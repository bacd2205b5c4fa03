/**
 * Bad input gets a clear error and changes nothing: every refused request leaves
 * authorized_keys byte-identical and creates no directory; concurrent creates and
 * deletes leave a consistent file; symlinks under the root are never followed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BOX_TOKEN, startTestBox, type TestBox } from "../../helpers/box.ts";
import type { TestKey } from "../../helpers/sshd.ts";

let t: TestBox;
let key: TestKey;

beforeAll(async () => {
  t = await startTestBox();
  key = await t.newKey("good");
  expect((await t.api("POST", "/repos", { name: "taken", pubkey: key.publicLine })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await t.stop();
});

async function expectRefused(
  request: () => Promise<{ status: number; body: unknown }>,
  status: number,
  code: string,
  message?: RegExp,
) {
  const before = await readFile(t.keysFile);
  const dirsBefore = (await readdir(t.root)).sort();
  const response = await request();
  expect(response.status).toBe(status);
  const body = response.body as { error: string; code: string };
  expect(body.code).toBe(code);
  expect(typeof body.error).toBe("string");
  if (message) expect(body.error).toMatch(message);
  expect((await readFile(t.keysFile)).equals(before)).toBe(true);
  expect((await readdir(t.root)).sort()).toEqual(dirsBefore);
}

const create = (body: unknown) => () => t.api("POST", "/repos", body);

describe("refused input changes nothing", () => {
  test("names that break the rule", async () => {
    for (const name of ["", "-x", "UPPER", "a/b", "..", ".", "a b", "a".repeat(64), "ünï", "x\n"]) {
      await expectRefused(
        create({ name, pubkey: key.publicLine }),
        400,
        "validation_failed",
        /name/,
      );
    }
  });

  test("keys that are not one plain public key", async () => {
    const [type, base64] = key.publicLine.split(" ") as [string, string];
    const rsa1024 = await t.newKey("weak", "rsa", 1024);
    const cases: [string, RegExp][] = [
      ["", /pubkey/],
      [`command="sh" ${key.publicLine}`, /option/i],
      [`restrict ${key.publicLine}`, /option/i],
      [`${key.publicLine}\n${key.publicLine}`, /line/i],
      [`${type} ${base64}\r`, /pubkey/],
      [`${type} ${base64}\0`, /pubkey/],
      [`ssh-rsa ${base64}`, /pubkey/],
      [`${type} ${base64.slice(0, 20)}`, /pubkey/],
      [`${type} !!!notbase64`, /pubkey/],
      ["ssh-dss AAAAB3NzaC1kc3MAAACBAP", /pubkey/],
      [rsa1024.publicLine, /2048/],
    ];
    for (const [pubkey, message] of cases) {
      await expectRefused(create({ name: "fresh", pubkey }), 400, "validation_failed", message);
    }
  });

  test("a name that already has a key is a conflict", async () => {
    const other = await t.newKey("other");
    await expectRefused(create({ name: "taken", pubkey: other.publicLine }), 409, "conflict");
  });

  test("unknown fields, wrong types, bad JSON and oversized bodies", async () => {
    await expectRefused(
      create({ name: "fresh", pubkey: key.publicLine, admin: true }),
      400,
      "validation_failed",
    );
    await expectRefused(
      create({ name: "fresh", pubkey: key.publicLine, append_only: "yes" }),
      400,
      "validation_failed",
    );
    await expectRefused(create("{not json"), 400, "validation_failed", /JSON/);
    await expectRefused(
      create({ name: "fresh", pubkey: "x".repeat(1024 * 1024 + 10) }),
      413,
      "payload_too_large",
    );
    await expectRefused(
      () => t.api("POST", "/repos/taken/prune", { dry_run: true }),
      400,
      "validation_failed",
      /keep/,
    );
    await expectRefused(
      () => t.api("PATCH", "/repos/taken", { append_only: 1 }),
      400,
      "validation_failed",
    );
  });

  test("unknown repos and jobs are 404s", async () => {
    await expectRefused(() => t.api("GET", "/repos/nope"), 404, "not_found");
    await expectRefused(() => t.api("DELETE", "/repos/nope"), 404, "not_found");
    await expectRefused(
      () => t.api("PATCH", "/repos/nope", { append_only: true }),
      404,
      "not_found",
    );
    await expectRefused(() => t.api("POST", "/repos/nope/check", {}), 404, "not_found");
    await expectRefused(() => t.api("GET", "/jobs/j_000000000000"), 404, "not_found");
    await expectRefused(() => t.api("GET", "/repos/BAD"), 400, "validation_failed");
  });

  test("wrong tokens are refused, and never logged", async () => {
    for (const token of ["nope", `${BOX_TOKEN}x`, BOX_TOKEN.slice(0, -1), ""]) {
      await expectRefused(
        () => t.api("GET", "/repos", undefined, { authorization: `Bearer ${token}` }),
        401,
        "unauthorized",
      );
    }
    expect((await t.api("GET", "/repos")).status).toBe(200);
    expect(t.logLines.join("\n")).not.toContain(BOX_TOKEN);
  });
});

describe("symlinks under the root are refused, never followed", () => {
  test("a symlinked repo dir can't be created over, read, imported or deleted", async () => {
    const outside = join(t.dir, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "precious"), "do not delete\n");
    await symlink(outside, join(t.root, "linked"));
    const pubkey = (await t.newKey("linker")).publicLine;
    await expectRefused(create({ name: "linked", pubkey }), 400, "validation_failed", /symlink/);
    await expectRefused(
      () => t.api("POST", "/repos/import", { name: "linked", pubkey }),
      400,
      "validation_failed",
    );
    await expectRefused(() => t.api("GET", "/repos/linked"), 400, "validation_failed", /symlink/);
    await expectRefused(
      () => t.api("DELETE", "/repos/linked"),
      400,
      "validation_failed",
      /symlink/,
    );
    expect(await readFile(join(outside, "precious"), "utf8")).toBe("do not delete\n");
    expect(
      ((await t.api("GET", "/repos")).body as { name: string }[]).map((r) => r.name),
    ).not.toContain("linked");
  });
});

describe("concurrency", () => {
  test("50 concurrent creates and deletes leave a consistent authorized_keys", async () => {
    const keys = await Promise.all(Array.from({ length: 25 }, (_, i) => t.newKey(`c${i}`)));
    // First wave: 25 creates. Second wave: delete the even ones while creating 25 more.
    await Promise.all(
      keys.map((k, i) => t.api("POST", "/repos", { name: `c${i}`, pubkey: k.publicLine })),
    );
    const wave = await Promise.all([
      ...keys.map((_, i) =>
        i % 2 === 0 ? t.api("DELETE", `/repos/c${i}`) : Promise.resolve({ status: 204 }),
      ),
      ...keys.map((k, i) => t.api("POST", "/repos", { name: `d${i}`, pubkey: k.publicLine })),
    ]);
    expect(wave.every((r) => r.status === 201 || r.status === 204)).toBe(true);
    const content = await readFile(t.keysFile, "utf8");
    expect(content.startsWith(t.handWritten)).toBe(true);
    const owned = [...content.matchAll(/# borgbox:([a-z0-9-]+)$/gm)].map((m) => m[1]).sort();
    const expected = [
      "taken",
      ...keys.map((_, i) => `d${i}`),
      ...keys.map((_, i) => `c${i}`).filter((_, i) => i % 2 === 1),
    ].sort();
    expect(owned).toEqual(expected);
    // Every line is whole: a command, a key and a tag.
    for (const line of content.split("\n").filter((l) => l.includes("borgbox:"))) {
      expect(line).toMatch(
        /^command="borg serve --restrict-to-repository \S+",restrict \S+ \S+ # borgbox:[a-z0-9-]+$/,
      );
    }
    for (let i = 0; i < keys.length; i++) {
      expect(existsSync(join(t.root, `c${i}`))).toBe(i % 2 === 1);
      expect(existsSync(join(t.root, `d${i}`))).toBe(true);
    }
    expect((await readdir(join(t.keysFile, ".."))).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
