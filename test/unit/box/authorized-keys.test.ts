/**
 * The box's authorized_keys lines: exact rendering, exact tag matching, and rewrites of a
 * real file in a temp dir that keep every byte the box does not own, under concurrent
 * writers in this process and in other processes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizedKeysFile,
  findOwnedLine,
  listOwnedNames,
  renderKeyLine,
} from "../../../src/box/authorized-keys.ts";
import { AppError } from "../../../src/shared/errors.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { type ParsedSshKey, parseSshPublicKey } from "../../../src/shared/ssh-key.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/ssh-keys");
const SRC = join(import.meta.dir, "../../../src");

async function fixtureKey(name: string): Promise<ParsedSshKey> {
  const result = parseSshPublicKey(await readFile(join(FIXTURES, `${name}.pub`), "utf8"));
  if (!result.ok) throw new Error(`fixture ${name} refused: ${result.reason}`);
  return result.key;
}

const ED25519 = await fixtureKey("ed25519");
const RSA = await fixtureKey("rsa-2048");

const line = (name: string, appendOnly = false, key = ED25519) =>
  renderKeyLine({ repoPath: `/srv/borg/repos/${name}`, name, key, appendOnly });

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-authkeys-"));
  tempDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A file with content the box must never touch: a hand-written key, comments, blanks, a non-UTF-8 byte. */
const HAND_WRITTEN = Buffer.concat([
  Buffer.from(`ssh-ed25519 ${ED25519.base64} admin@laptop\n`),
  Buffer.from("# keys below are managed by the box  \n"),
  Buffer.from("\n"),
  Buffer.from("#   caf"),
  Buffer.from([0xe9, 0xff]), // latin1 é and a byte that is not valid UTF-8
  Buffer.from(" note\n"),
]);

async function fileWith(
  content: Buffer | string,
  mode = 0o600,
): Promise<{ dir: string; path: string }> {
  const dir = await tempDir();
  const path = join(dir, "authorized_keys");
  await writeFile(path, content);
  await chmod(path, mode);
  return { dir, path };
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe(code as AppError["code"]);
    return;
  }
  throw new Error(`expected AppError(${code})`);
}

describe("renderKeyLine", () => {
  test("renders borgbox's exact line, with and without --append-only", () => {
    expect(
      renderKeyLine({
        repoPath: "/srv/borg/repos/mac",
        name: "mac",
        key: ED25519,
        appendOnly: false,
      }),
    ).toBe(
      `command="borg serve --restrict-to-repository /srv/borg/repos/mac",restrict ssh-ed25519 ${ED25519.base64} # borgbox:mac`,
    );
    expect(
      renderKeyLine({ repoPath: "/srv/borg/repos/mac", name: "mac", key: RSA, appendOnly: true }),
    ).toBe(
      `command="borg serve --restrict-to-repository /srv/borg/repos/mac --append-only",restrict ssh-rsa ${RSA.base64} # borgbox:mac`,
    );
  });

  test("the user's comment never reaches the line", () => {
    const key = { ...ED25519, comment: "evil-comment" };
    expect(line("mac", false, key)).not.toContain("evil");
  });

  test("throws for repo paths that are relative, unnormalised or could break the line", () => {
    const bad = [
      "srv/repos/mac",
      "/srv/repos/../etc",
      "/srv/repos/./mac",
      '/srv/repos/mac" ,command="sh',
      "/srv/repos\\mac",
      "/srv/repos/m ac",
      "/srv/repos/m\tac",
      "/srv/repos/mac\nssh-ed25519 AAAA",
      "/srv/repos/mac\x7f",
      "/srv/repos/mac\u00a0x",
    ];
    for (const repoPath of bad) {
      expect(() =>
        renderKeyLine({ repoPath, name: "mac", key: ED25519, appendOnly: false }),
      ).toThrow();
    }
  });

  test("throws for invalid names and keys that did not come from the parser", () => {
    for (const name of ["", "Mac", "mac os", "mac\n", "-mac", "a".repeat(64)]) {
      expect(() =>
        renderKeyLine({ repoPath: "/srv/mac", name, key: ED25519, appendOnly: false }),
      ).toThrow();
    }
    const forgedType = { ...ED25519, type: 'ssh-ed25519",command="sh' };
    expect(() =>
      renderKeyLine({ repoPath: "/srv/mac", name: "mac", key: forgedType, appendOnly: false }),
    ).toThrow();
    const forgedBase64 = { ...ED25519, base64: "AAAA # borgbox:other" };
    expect(() =>
      renderKeyLine({ repoPath: "/srv/mac", name: "mac", key: forgedBase64, appendOnly: false }),
    ).toThrow();
  });
});

describe("findOwnedLine and listOwnedNames", () => {
  const decoys = [
    line("mac2"),
    line("mac-old"),
    `${line("mac")} extra`,
    `command="borg serve --restrict-to-repository /x",restrict ssh-ed25519 ${ED25519.base64} mac # borgbox:mac extra`,
    "# borgbox:mac",
    `# ${line("mac")}`,
    `ssh-ed25519 ${ED25519.base64} # borgbox:macintosh`,
    `ssh-ed25519 ${ED25519.base64} #borgbox:mac`,
    `ssh-ed25519 ${ED25519.base64} # borgbox:MAC`,
  ].join("\n");

  test("never matches a longer name, a tag not at the end, or a commented-out line", () => {
    expect(findOwnedLine(decoys, "mac")).toBeUndefined();
    expect(findOwnedLine(`${decoys}\n`, "mac")).toBeUndefined();
  });

  test("finds the exact tag with its index, append-only flag, type and base64", () => {
    const content = `${decoys}\n${line("mac", true, RSA)}\n${line("ma")}\n`;
    const found = findOwnedLine(content, "mac");
    expect(found).toEqual({
      index: 9,
      line: line("mac", true, RSA),
      appendOnly: true,
      type: "ssh-rsa",
      base64: RSA.base64,
    });
    expect(findOwnedLine(content, "ma")?.appendOnly).toBe(false);
    expect(findOwnedLine(content, "ma")?.index).toBe(10);
    expect(findOwnedLine(content, "mac2")?.index).toBe(0);
  });

  test("a CRLF line is found, reported without its CR", () => {
    const content = `first\r\n${line("mac")}\r\n`;
    expect(findOwnedLine(content, "mac")).toMatchObject({
      index: 1,
      line: line("mac"),
      type: "ssh-ed25519",
    });
  });

  test("listOwnedNames lists every owned tag with its append-only flag", () => {
    const content = `${decoys}\r\n${line("mac", true)}\r\n${line("pc")}`;
    expect(listOwnedNames(content)).toEqual(
      new Map([
        ["mac2", { appendOnly: false }],
        ["mac-old", { appendOnly: false }],
        ["macintosh", { appendOnly: false }],
        ["MAC", { appendOnly: false }],
        ["mac", { appendOnly: true }],
        ["pc", { appendOnly: false }],
      ]),
    );
    expect(listOwnedNames("")).toEqual(new Map());
  });
});

describe("AuthorizedKeysFile", () => {
  test("read() of a missing file is empty; add() creates the directory 0700 and the file 0600", async () => {
    const dir = await tempDir();
    const path = join(dir, "home", ".ssh", "authorized_keys");
    const file = new AuthorizedKeysFile(path);
    expect(await file.read()).toBe("");
    await file.add("mac", line("mac"));
    expect(await readFile(path, "utf8")).toBe(`${line("mac")}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "home", ".ssh"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "home"))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, "home", ".ssh"))).toEqual(["authorized_keys"]);
  });

  test("add, replace and remove keep hand-written lines byte for byte", async () => {
    const { dir, path } = await fileWith(HAND_WRITTEN, 0o644);
    const file = new AuthorizedKeysFile(path);

    await file.add("mac", line("mac"));
    await file.add("pc", line("pc"));
    expect(await readFile(path)).toEqual(
      Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac")}\n${line("pc")}\n`)]),
    );
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    await file.replace("mac", line("mac", true));
    expect(await readFile(path)).toEqual(
      Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac", true)}\n${line("pc")}\n`)]),
    );
    expect(await file.owned()).toEqual(
      new Map([
        ["mac", { appendOnly: true }],
        ["pc", { appendOnly: false }],
      ]),
    );

    expect(await file.remove("mac")).toBe(true);
    expect(await file.remove("pc")).toBe(true);
    expect(await readFile(path)).toEqual(HAND_WRITTEN);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("an owned line in the middle is removed without touching its neighbours", async () => {
    const before = Buffer.from(`top\n${line("mac")}\n# bottom\n`);
    const { path } = await fileWith(before);
    expect(await new AuthorizedKeysFile(path).remove("mac")).toBe(true);
    expect(await readFile(path, "latin1")).toBe("top\n# bottom\n");
  });

  test("a CRLF file keeps CRLF, and new lines follow it", async () => {
    const before = Buffer.from("ssh-ed25519 AAAA admin\r\n# comment\r\n\r\n");
    const { path } = await fileWith(before);
    const file = new AuthorizedKeysFile(path);
    await file.add("mac", line("mac"));
    expect(await readFile(path, "latin1")).toBe(`${before.toString("latin1")}${line("mac")}\r\n`);
    await file.replace("mac", line("mac", true));
    expect(await readFile(path, "latin1")).toBe(
      `${before.toString("latin1")}${line("mac", true)}\r\n`,
    );
    expect(await file.remove("mac")).toBe(true);
    expect(await readFile(path)).toEqual(before);
  });

  test("a file without a final newline gets one separator before the new line, nothing else", async () => {
    const before = "ssh-ed25519 AAAA admin\n# last line, no newline";
    const { path } = await fileWith(before);
    const file = new AuthorizedKeysFile(path);
    await file.add("mac", line("mac"));
    expect(await readFile(path, "latin1")).toBe(`${before}\n${line("mac")}\n`);
    expect(await file.remove("mac")).toBe(true);
    expect(await readFile(path, "latin1")).toBe(`${before}\n`);
  });

  test("a CRLF file without a final newline gets a CRLF separator", async () => {
    const before = "a\r\nb";
    const { path } = await fileWith(before);
    await new AuthorizedKeysFile(path).add("mac", line("mac"));
    expect(await readFile(path, "latin1")).toBe(`a\r\nb\r\n${line("mac")}\r\n`);
  });

  test("an owned last line without a newline: replace keeps it unterminated, remove leaves the rest", async () => {
    const before = `keep\n${line("mac")}`;
    const { path } = await fileWith(before);
    const file = new AuthorizedKeysFile(path);
    await file.replace("mac", line("mac", true));
    expect(await readFile(path, "latin1")).toBe(`keep\n${line("mac", true)}`);
    expect(await file.remove("mac")).toBe(true);
    expect(await readFile(path, "latin1")).toBe("keep\n");
  });

  test("add for a name that has a line: conflict, and the file is not rewritten", async () => {
    const before = Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac")}\n`)]);
    const { dir, path } = await fileWith(before);
    const statBefore = await stat(path);
    await expectAppError(
      new AuthorizedKeysFile(path).add("mac", line("mac", true, RSA)),
      "conflict",
    );
    const statAfter = await stat(path);
    expect(await readFile(path)).toEqual(before);
    expect(statAfter.ino).toBe(statBefore.ino);
    expect(statAfter.mtimeMs).toBe(statBefore.mtimeMs);
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("remove of an unknown name returns false and does not rewrite the file", async () => {
    const before = Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac2")}\n# borgbox:mac\n`)]);
    const { dir, path } = await fileWith(before);
    const statBefore = await stat(path);
    expect(await new AuthorizedKeysFile(path).remove("mac")).toBe(false);
    const statAfter = await stat(path);
    expect(await readFile(path)).toEqual(before);
    expect(statAfter.ino).toBe(statBefore.ino);
    expect(statAfter.mtimeMs).toBe(statBefore.mtimeMs);
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("remove of a missing file returns false and creates no file", async () => {
    const dir = await tempDir();
    const path = join(dir, "authorized_keys");
    expect(await new AuthorizedKeysFile(path).remove("mac")).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  test("remove drops every copy of a hand-duplicated line, so no copy keeps access", async () => {
    const { path } = await fileWith(`${line("mac")}\nkeep\n${line("mac", true)}\n`);
    expect(await new AuthorizedKeysFile(path).remove("mac")).toBe(true);
    expect(await readFile(path, "latin1")).toBe("keep\n");
  });

  test("replace of an unknown name: not_found, file untouched", async () => {
    const before = Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac2")}\n`)]);
    const { path } = await fileWith(before);
    const inode = (await stat(path)).ino;
    await expectAppError(new AuthorizedKeysFile(path).replace("mac", line("mac")), "not_found");
    expect(await readFile(path)).toEqual(before);
    expect((await stat(path)).ino).toBe(inode);
  });

  test("add and replace refuse a line that is not tagged for that name, or spans lines", async () => {
    const { path } = await fileWith(HAND_WRITTEN);
    const file = new AuthorizedKeysFile(path);
    await expect(file.add("mac", line("pc"))).rejects.toThrow(/borgbox:mac/);
    await expect(file.add("mac", `${line("pc")}\n${line("mac")}`)).rejects.toThrow();
    await expect(file.add("mac", `# ${line("mac")}`)).rejects.toThrow();
    await file.add("mac", line("mac"));
    await expect(file.replace("mac", `x\r${line("mac")}`)).rejects.toThrow();
    expect(await readFile(path)).toEqual(
      Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac")}\n`)]),
    );
  });

  test("a non-ASCII repo path is written as UTF-8", async () => {
    const dir = await tempDir();
    const path = join(dir, "authorized_keys");
    const rendered = renderKeyLine({
      repoPath: "/srv/bäckups/mac",
      name: "mac",
      key: ED25519,
      appendOnly: false,
    });
    await new AuthorizedKeysFile(path).add("mac", rendered);
    expect(await readFile(path)).toEqual(Buffer.from(`${rendered}\n`, "utf8"));
    expect(await new AuthorizedKeysFile(path).remove("mac")).toBe(true);
    expect(await readFile(path, "utf8")).toBe("");
  });

  test("a symlinked authorized_keys stays a symlink; its target is rewritten", async () => {
    const { dir, path: target } = await fileWith(HAND_WRITTEN);
    const link = join(dir, "link_keys");
    await symlink(target, link);
    await new AuthorizedKeysFile(link).add("mac", line("mac"));
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(target)).toEqual(
      Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac")}\n`)]),
    );
    expect((await readdir(dir)).sort()).toEqual(["authorized_keys", "link_keys"]);
  });

  test("50 concurrent adds and removes through separate instances leave exactly the expected lines", async () => {
    const { dir, path } = await fileWith(HAND_WRITTEN);
    const initial = Array.from({ length: 25 }, (_, i) => `old-${i}`);
    const seed = new AuthorizedKeysFile(path);
    for (const name of initial) await seed.add(name, line(name));

    const added = Array.from({ length: 25 }, (_, i) => `new-${i}`);
    const operations = [
      ...added.map(
        (name) => () => new AuthorizedKeysFile(path).add(name, line(name, name.endsWith("0"))),
      ),
      ...initial.map((name) => async () => {
        expect(await new AuthorizedKeysFile(path).remove(name)).toBe(true);
      }),
    ];
    // Interleave adds and removes so both kinds race from the start.
    const shuffled = operations.map((op, i) => ({ op, key: (i * 37) % operations.length }));
    shuffled.sort((a, b) => a.key - b.key);
    await Promise.all(shuffled.map(({ op }) => op()));

    const content = await readFile(path);
    expect(content.subarray(0, HAND_WRITTEN.length)).toEqual(HAND_WRITTEN);
    const ownedLines = content
      .subarray(HAND_WRITTEN.length)
      .toString("latin1")
      .split("\n")
      .filter(Boolean);
    expect(ownedLines.sort()).toEqual(added.map((name) => line(name, name.endsWith("0"))).sort());
    expect([...(await seed.owned()).keys()].sort()).toEqual([...added].sort());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("three processes adding 20 lines each at the same time: all 60 present", async () => {
    const { dir, path } = await fileWith(HAND_WRITTEN);
    const childCode = (worker: number) => `
      const { AuthorizedKeysFile, renderKeyLine } = await import(${JSON.stringify(join(SRC, "box/authorized-keys.ts"))});
      const { parseSshPublicKey } = await import(${JSON.stringify(join(SRC, "shared/ssh-key.ts"))});
      const parsed = parseSshPublicKey(${JSON.stringify(`${ED25519.type} ${ED25519.base64}`)});
      if (!parsed.ok) throw new Error(parsed.reason);
      const file = new AuthorizedKeysFile(${JSON.stringify(path)});
      await Promise.all(Array.from({ length: 20 }, (_, i) => {
        const name = "w${worker}-" + i;
        return file.add(name, renderKeyLine({ repoPath: "/srv/borg/repos/" + name, name, key: parsed.key, appendOnly: false }));
      }));
    `;
    const results = await Promise.all(
      [0, 1, 2].map((worker) =>
        runProcess({ argv: [process.execPath, "-e", childCode(worker)], stderrTailLines: 20 }),
      ),
    );
    for (const result of results) {
      expect({ exitCode: result.exitCode, stderr: result.stderrTail }).toEqual({
        exitCode: 0,
        stderr: [],
      });
    }

    const content = await readFile(path);
    expect(content.subarray(0, HAND_WRITTEN.length)).toEqual(HAND_WRITTEN);
    const expected = [0, 1, 2].flatMap((w) => Array.from({ length: 20 }, (_, i) => `w${w}-${i}`));
    const owned = listOwnedNames(content.toString("latin1"));
    expect([...owned.keys()].sort()).toEqual(expected.sort());
    expect(
      content.subarray(HAND_WRITTEN.length).toString("latin1").split("\n").filter(Boolean),
    ).toHaveLength(60);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("a lock left by a dead process does not block writers", async () => {
    const { dir, path } = await fileWith(HAND_WRITTEN);
    // Far above Linux's pid_max (4194304), so no process can have it.
    await writeFile(`${path}.lock`, "99999999 deadbeef\n");
    await new AuthorizedKeysFile(path).add("mac", line("mac"));
    expect(await readFile(path)).toEqual(
      Buffer.concat([HAND_WRITTEN, Buffer.from(`${line("mac")}\n`)]),
    );
    expect(await readdir(dir)).toEqual(["authorized_keys"]);
  });

  test("the parent directory is created but an existing one keeps its mode", async () => {
    const dir = await tempDir();
    const sshDir = join(dir, "ssh");
    await mkdir(sshDir, { mode: 0o755 });
    await chmod(sshDir, 0o755);
    await new AuthorizedKeysFile(join(sshDir, "authorized_keys")).add("mac", line("mac"));
    expect((await stat(sshDir)).mode & 0o777).toBe(0o755);
  });
});
