import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createRepoDir,
  formatTimestamp,
  listRepoDirs,
  readRepoFacts,
  removeRepoDir,
} from "../../../src/box/repos.ts";
import { AppError } from "../../../src/shared/errors.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";

let tmp: string;
let root: string;
let borgEnv: Record<string, string>;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "borgctl-repos-"));
  root = path.join(tmp, "root");
  await fs.mkdir(root);
  borgEnv = {
    BORG_BASE_DIR: path.join(tmp, "borg-base"),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    LANG: "C.UTF-8",
  };
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function borg(...args: string[]): Promise<void> {
  const result = await runProcess({ argv: ["borg", ...args], env: borgEnv });
  if (result.exitCode !== 0) {
    throw new Error(`borg ${args[0]} failed (${result.exitCode}): ${result.stderrTail.join("\n")}`);
  }
}

/** Sum of regular file sizes, measured by find(1) rather than by the code under test. */
async function findFileSizes(dir: string): Promise<number> {
  const result = await runProcess({
    argv: ["find", dir, "-type", "f", "-printf", "%s\\n"],
    captureStdout: true,
  });
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .reduce((sum, n) => sum + Number(n), 0);
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe(code as AppError["code"]);
    return e as AppError;
  }
  throw new Error(`expected AppError ${code}`);
}

async function highestIntegrity(repo: string): Promise<number> {
  const names = await fs.readdir(repo);
  return Math.max(
    ...names.filter((n) => /^integrity\.\d+$/.test(n)).map((n) => Number(n.slice(10))),
  );
}

describe("readRepoFacts on a real borg repo", () => {
  test("an initialized repo: size, last write, last segment", async () => {
    const repo = path.join(root, "r1");
    await borg("init", "-e", "none", repo);

    const facts = await readRepoFacts(root, "r1");
    const n = await highestIntegrity(repo);
    const integrity = await fs.stat(path.join(repo, `integrity.${n}`));

    expect(facts.name).toBe("r1");
    expect(facts.path).toBe(repo);
    expect(facts.initialized).toBe(true);
    expect(facts.size_bytes).toBeGreaterThan(0);
    expect(facts.size_bytes).toBe(await findFileSizes(repo));
    expect(facts.last_segment).toBe(n);
    expect(facts.last_write_at).toBe(formatTimestamp(integrity.mtimeMs));
    expect(facts.locked).toBe(false);
    expect(facts.modified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("a backup moves last_segment forward and grows the size", async () => {
    const repo = path.join(root, "r2");
    await borg("init", "-e", "none", repo);
    const before = await readRepoFacts(root, "r2");

    const source = path.join(tmp, "source");
    await fs.mkdir(source, { recursive: true });
    await fs.writeFile(path.join(source, "data.bin"), Buffer.alloc(200_000, 7));
    await borg("create", `${repo}::first`, source);

    const after = await readRepoFacts(root, "r2");
    expect(after.last_segment).toBeGreaterThan(before.last_segment ?? 0);
    expect(after.size_bytes).toBeGreaterThan(before.size_bytes);
    expect(after.size_bytes).toBe(await findFileSizes(repo));
  });
});

describe("readRepoFacts on hand-made directories", () => {
  test("an empty dir is not initialized and has no writes", async () => {
    await fs.mkdir(path.join(root, "empty"));
    const facts = await readRepoFacts(root, "empty");
    expect(facts).toMatchObject({
      name: "empty",
      size_bytes: 0,
      initialized: false,
      last_write_at: null,
      last_segment: null,
      locked: false,
    });
  });

  test("config content never appears in the facts", async () => {
    const marker = "SECRET-KEY-MATERIAL-7f3a9c";
    const repo = path.join(root, "keyed");
    await fs.mkdir(repo);
    await fs.writeFile(
      path.join(repo, "config"),
      `[repository]\nversion = 1\nid = abc\nkey = ${marker}\n`,
    );
    const facts = await readRepoFacts(root, "keyed");
    expect(facts.initialized).toBe(true);
    expect(JSON.stringify(facts)).not.toContain(marker);
    expect(JSON.stringify(facts)).not.toContain("[repository]");
  });

  test.each([
    ["[repository]\nversion = 2\n", true],
    ["[repository]\nversion=1\n", true],
    ["[repository]\nversion = 3\n", false],
    ["[cache]\nversion = 1\n", false],
    ["[repository]\nid = x\n[other]\nversion = 1\n", false],
    ["version = 1\n", false],
    ["", false],
  ])("config %p → initialized %p", async (content, expected) => {
    const name = `cfg-${Math.random().toString(36).slice(2, 10)}`;
    await fs.mkdir(path.join(root, name));
    await fs.writeFile(path.join(root, name, "config"), content);
    expect((await readRepoFacts(root, name)).initialized).toBe(expected);
  });

  test("a version line beyond the first 4 KB is not read", async () => {
    await fs.mkdir(path.join(root, "bigcfg"));
    const filler = `; ${"x".repeat(5000)}\n`;
    await fs.writeFile(path.join(root, "bigcfg", "config"), `[repository]\n${filler}version = 1\n`);
    expect((await readRepoFacts(root, "bigcfg")).initialized).toBe(false);
  });

  test("a config that is a symlink is not followed", async () => {
    const real = path.join(tmp, "real-config");
    await fs.writeFile(real, "[repository]\nversion = 1\n");
    await fs.mkdir(path.join(root, "cfglink"));
    await fs.symlink(real, path.join(root, "cfglink", "config"));
    expect((await readRepoFacts(root, "cfglink")).initialized).toBe(false);
  });

  test("lock.roster or lock.exclusive marks the repo locked", async () => {
    await fs.mkdir(path.join(root, "lk1"));
    await fs.writeFile(path.join(root, "lk1", "lock.roster"), "{}");
    await fs.mkdir(path.join(root, "lk2"));
    await fs.mkdir(path.join(root, "lk2", "lock.exclusive"));
    expect((await readRepoFacts(root, "lk1")).locked).toBe(true);
    expect((await readRepoFacts(root, "lk2")).locked).toBe(true);
  });

  test("last write is the highest integrity.N by number, not by name", async () => {
    const repo = path.join(root, "multi");
    await fs.mkdir(repo);
    await fs.writeFile(path.join(repo, "integrity.9"), "");
    await fs.writeFile(path.join(repo, "integrity.10"), "");
    const when = new Date("2024-05-06T07:08:09Z");
    await fs.utimes(path.join(repo, "integrity.10"), when, when);
    const facts = await readRepoFacts(root, "multi");
    expect(facts.last_segment).toBe(10);
    expect(facts.last_write_at).toBe("2024-05-06T07:08:09Z");
  });

  test("size counts files in subdirectories but not symlink targets", async () => {
    const repo = path.join(root, "sized");
    await fs.mkdir(path.join(repo, "data", "0"), { recursive: true });
    await fs.writeFile(path.join(repo, "data", "0", "1"), Buffer.alloc(1000));
    await fs.writeFile(path.join(repo, "hints.1"), Buffer.alloc(24));
    const outside = path.join(tmp, "big-outside");
    await fs.mkdir(outside, { recursive: true });
    await fs.writeFile(path.join(outside, "blob"), Buffer.alloc(50_000));
    await fs.symlink(outside, path.join(repo, "data", "linkdir"));
    await fs.symlink(path.join(outside, "blob"), path.join(repo, "linkfile"));
    expect((await readRepoFacts(root, "sized")).size_bytes).toBe(1024);
  });

  test("modified_at follows the newest file below the dir", async () => {
    const repo = path.join(root, "mtime");
    await fs.mkdir(path.join(repo, "data", "0"), { recursive: true });
    const old = new Date("2020-01-01T00:00:00Z");
    const newest = new Date("2031-02-03T04:05:06Z");
    await fs.writeFile(path.join(repo, "data", "0", "5"), "x");
    await fs.utimes(path.join(repo, "data", "0", "5"), newest, newest);
    for (const p of [path.join(repo, "data", "0"), path.join(repo, "data"), repo]) {
      await fs.utimes(p, old, old);
    }
    expect((await readRepoFacts(root, "mtime")).modified_at).toBe("2031-02-03T04:05:06Z");
  });

  test("a missing repo is not_found, a bad name validation_failed", async () => {
    await expectAppError(readRepoFacts(root, "nope"), "not_found");
    await expectAppError(readRepoFacts(root, "../etc"), "validation_failed");
  });

  test("a regular file with a repo name is not_found", async () => {
    await fs.writeFile(path.join(root, "plainfile"), "x");
    await expectAppError(readRepoFacts(root, "plainfile"), "not_found");
  });
});

describe("symlinked repo directories", () => {
  test("are skipped by list, refused by read and remove; the target survives", async () => {
    const target = path.join(tmp, "elsewhere");
    await fs.mkdir(target, { recursive: true });
    await fs.writeFile(path.join(target, "precious"), "keep me");
    await fs.symlink(target, path.join(root, "sneaky"));

    expect(await listRepoDirs(root)).not.toContain("sneaky");
    const readErr = await expectAppError(readRepoFacts(root, "sneaky"), "validation_failed");
    expect(readErr.message).toContain("is a symlink, refused");
    await expectAppError(removeRepoDir(root, "sneaky"), "validation_failed");
    await expectAppError(createRepoDir(root, "sneaky"), "validation_failed");

    expect(await fs.readFile(path.join(target, "precious"), "utf8")).toBe("keep me");
    expect((await fs.lstat(path.join(root, "sneaky"))).isSymbolicLink()).toBe(true);
  });
});

describe("listRepoDirs", () => {
  test("lists valid directory names sorted, ignoring files and bad names", async () => {
    const listRoot = path.join(tmp, "list-root");
    for (const name of ["zeta", "alpha", "m-1", "Upper", "_x", "a.b", "-dash"]) {
      await fs.mkdir(path.join(listRoot, name), { recursive: true });
    }
    await fs.writeFile(path.join(listRoot, "afile"), "x");
    await fs.symlink(path.join(listRoot, "alpha"), path.join(listRoot, "alias"));
    expect(await listRepoDirs(listRoot)).toEqual(["alpha", "m-1", "zeta"]);
  });

  test("a missing root lists nothing", async () => {
    expect(await listRepoDirs(path.join(tmp, "no-such-root"))).toEqual([]);
  });
});

describe("createRepoDir", () => {
  test("creates the root and the repo 0700, and is idempotent", async () => {
    const newRoot = path.join(tmp, "fresh", "repos");
    await fs.mkdir(path.join(tmp, "fresh"));
    const created = await createRepoDir(newRoot, "mac");
    expect(created).toBe(path.join(newRoot, "mac"));
    expect((await fs.stat(newRoot)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(created)).mode & 0o777).toBe(0o700);

    await fs.writeFile(path.join(created, "keep"), "x");
    expect(await createRepoDir(newRoot, "mac")).toBe(created);
    expect(await fs.readFile(path.join(created, "keep"), "utf8")).toBe("x");
  });

  test("refuses a file in the way and bad names", async () => {
    await fs.writeFile(path.join(root, "occupied"), "x");
    await expectAppError(createRepoDir(root, "occupied"), "conflict");
    await expectAppError(createRepoDir(root, ".."), "validation_failed");
  });
});

describe("removeRepoDir", () => {
  test("removes the tree, but not what symlinks inside point to", async () => {
    const target = path.join(tmp, "linked-from-inside");
    await fs.mkdir(target, { recursive: true });
    await fs.writeFile(path.join(target, "survivor"), "alive");

    const repo = await createRepoDir(root, "doomed");
    await fs.mkdir(path.join(repo, "data", "0"), { recursive: true });
    await fs.writeFile(path.join(repo, "data", "0", "1"), "segment");
    await fs.symlink(target, path.join(repo, "data", "link"));

    await removeRepoDir(root, "doomed");
    await expect(fs.lstat(repo)).rejects.toThrow();
    expect(await fs.readFile(path.join(target, "survivor"), "utf8")).toBe("alive");
  });

  test("a missing repo is fine; a bad name is refused", async () => {
    await removeRepoDir(root, "never-existed");
    await expectAppError(removeRepoDir(root, "a/b"), "validation_failed");
  });
});
