/**
 * Lent key lines (authorized-keys.ts): rendered with the repo's restriction and their own
 * tag, invisible to the repo list, refused when the key already has any line (sshd takes
 * the first match), idempotent for a retried lend, and removed one tag or all at once
 * without touching any other byte.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizedKeysFile,
  holdersOfKey,
  listLentTags,
  listOwnedNames,
  renderKeyLine,
  renderLentKeyLine,
} from "../../../src/box/authorized-keys.ts";
import { AppError } from "../../../src/shared/errors.ts";
import { type ParsedSshKey, parseSshPublicKey } from "../../../src/shared/ssh-key.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/ssh-keys");
async function fixtureKey(name: string): Promise<ParsedSshKey> {
  const result = parseSshPublicKey(await readFile(join(FIXTURES, `${name}.pub`), "utf8"));
  if (!result.ok) throw new Error(`fixture ${name} refused: ${result.reason}`);
  return result.key;
}
const OWNER = await fixtureKey("ed25519");
const TARGET = await fixtureKey("rsa-2048");
const OTHER = await fixtureKey("ecdsa-256");

const own = (name: string, key: ParsedSshKey, appendOnly = false) =>
  renderKeyLine({ repoPath: `/srv/repos/${name}`, name, key, appendOnly });
const lent = (name: string, tag: string, key: ParsedSshKey, appendOnly = false) =>
  renderLentKeyLine({ repoPath: `/srv/repos/${name}`, name, tag, key, appendOnly });

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function fileWith(content: string) {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-lent-"));
  dirs.push(dir);
  const path = join(dir, "authorized_keys");
  await writeFile(path, content);
  return { path, file: new AuthorizedKeysFile(path) };
}
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
  return "none";
}

describe("lent key lines", () => {
  test("render the repo's restriction (append-only too) under their own tag", () => {
    expect(lent("mac", "restore-1", TARGET, true)).toBe(
      `command="borg serve --restrict-to-repository /srv/repos/mac --append-only",restrict ${TARGET.type} ${TARGET.base64} # borgbox-lent:mac:restore-1`,
    );
    expect(() => lent("mac", "Bad Tag", TARGET)).toThrow(/invalid tag/);
  });

  test("are not repos, and are found by tag and by key", () => {
    const content = `${own("mac", OWNER)}\n${lent("mac", "t1", TARGET)}\n# ${lent("mac", "t2", OTHER)}\n`;
    expect([...listOwnedNames(content).keys()]).toEqual(["mac"]);
    expect(listLentTags(content, "mac")).toEqual(["t1"]);
    expect(holdersOfKey(content, TARGET.base64)).toEqual(["mac:t1"]);
    expect(holdersOfKey(content, OWNER.base64)).toEqual(["mac"]);
    expect(holdersOfKey(content, OTHER.base64)).toEqual([]);
  });

  test("a lend appends one line; a retry is a no-op; a key on any other line is refused", async () => {
    const admin = `ssh-ed25519 ${OTHER.base64} admin\n`.replace("ssh-ed25519", OTHER.type);
    const start = `${admin}${own("mac", OWNER)}\n${own("pc", TARGET)}\n`;
    const { path, file } = await fileWith(start);
    // TARGET opens "pc": sshd would let it into pc, never into mac.
    expect(await codeOf(file.addLent("mac", "t1", TARGET.base64, lent("mac", "t1", TARGET)))).toBe(
      "conflict",
    );
    // The admin's own line for OTHER would win too.
    expect(await codeOf(file.addLent("mac", "t1", OTHER.base64, lent("mac", "t1", OTHER)))).toBe(
      "conflict",
    );
    expect(await readFile(path, "latin1")).toBe(start);

    await file.remove("pc");
    const before = await readFile(path, "latin1");
    await file.addLent("mac", "t1", TARGET.base64, lent("mac", "t1", TARGET));
    await file.addLent("mac", "t1", TARGET.base64, lent("mac", "t1", TARGET));
    expect(await readFile(path, "latin1")).toBe(`${before}${lent("mac", "t1", TARGET)}\n`);
    // The same key under another tag: still one line per key.
    expect(await codeOf(file.addLent("mac", "t2", TARGET.base64, lent("mac", "t2", TARGET)))).toBe(
      "conflict",
    );

    expect(await file.removeLent("mac", "t2")).toBe(false);
    expect(await file.removeLent("mac", "t1")).toBe(true);
    expect(await readFile(path, "latin1")).toBe(before);
  });

  test("removeLent without a tag takes every lent line of the repo and no other", async () => {
    const start = `${own("mac", OWNER)}\n${own("pc", OTHER)}\n`;
    const { path, file } = await fileWith(start);
    await file.addLent("mac", "t1", TARGET.base64, lent("mac", "t1", TARGET));
    expect(await file.removeLent("pc")).toBe(false);
    expect(await file.removeLent("mac")).toBe(true);
    expect(await readFile(path, "latin1")).toBe(start);
  });

  test("rerenderLent follows the repo's append-only, other lines untouched", async () => {
    const start = `${own("mac", OWNER)}\n${own("pc", OTHER)}\n`;
    const { path, file } = await fileWith(start);
    await file.addLent("mac", "t1", TARGET.base64, lent("mac", "t1", TARGET));
    await file.rerenderLent("mac", (tag, key) =>
      renderLentKeyLine({
        repoPath: "/srv/repos/mac",
        name: "mac",
        tag,
        key: { ...key, comment: "", fingerprint: "" },
        appendOnly: true,
      }),
    );
    expect(await readFile(path, "latin1")).toBe(`${start}${lent("mac", "t1", TARGET, true)}\n`);
  });
});
