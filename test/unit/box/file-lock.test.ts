/**
 * withFileLock on real lock files in a temp dir: mutual exclusion in this process, and
 * which leftover lock files count as stale (dead pid, our own pid, too old, never written).
 * The cross-process half is exercised with real child processes in authorized-keys.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withFileLock } from "../../../src/box/file-lock.ts";
import { AppError } from "../../../src/shared/errors.ts";

const tempDirs: string[] = [];
async function lockPathInTempDir(): Promise<{ dir: string; lockPath: string }> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-filelock-"));
  tempDirs.push(dir);
  return { dir, lockPath: join(dir, "authorized_keys.lock") };
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Far above Linux's pid_max (4194304), so no process has it. */
const DEAD_PID = 99_999_999;

async function ageFile(path: string, seconds: number): Promise<void> {
  const past = new Date(Date.now() - seconds * 1000);
  await utimes(path, past, past);
}

describe("withFileLock", () => {
  test("runs callers one at a time and returns their results", async () => {
    const { dir, lockPath } = await lockPathInTempDir();
    let active = 0;
    let maxActive = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withFileLock(lockPath, async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await Bun.sleep(1);
          active--;
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxActive).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  test("the lock file holds our pid while held and is removed even when the callback throws", async () => {
    const { dir, lockPath } = await lockPathInTempDir();
    const failing = withFileLock(lockPath, async () => {
      expect(await readFile(lockPath, "utf8")).toMatch(new RegExp(`^${process.pid} [0-9a-f]+\\n$`));
      throw new Error("boom");
    });
    await expect(failing).rejects.toThrow("boom");
    expect(await readdir(dir)).toEqual([]);
    expect(await withFileLock(lockPath, async () => "next")).toBe("next");
  });

  test("a lock left by a dead pid is broken", async () => {
    const { dir, lockPath } = await lockPathInTempDir();
    await writeFile(lockPath, `${DEAD_PID} 0123abcd\n`);
    expect(await withFileLock(lockPath, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
    expect(await readdir(dir)).toEqual([]);
  });

  test("a lock carrying our own pid is a leftover of an earlier process with that pid", async () => {
    const { lockPath } = await lockPathInTempDir();
    await writeFile(lockPath, `${process.pid} 0123abcd\n`);
    expect(await withFileLock(lockPath, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
  });

  test("a fresh lock of a live process is waited for, then times out with AppError(internal)", async () => {
    const { lockPath } = await lockPathInTempDir();
    const content = `${process.ppid} 0123abcd\n`;
    await writeFile(lockPath, content);
    let ran = false;
    const attempt = withFileLock(
      lockPath,
      async () => {
        ran = true;
      },
      { timeoutMs: 200 },
    );
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("internal");
    expect((error as AppError).message).toContain(`held by pid ${process.ppid}`);
    expect(ran).toBe(false);
    expect(await readFile(lockPath, "utf8")).toBe(content);
  });

  test("a live process's lock older than staleAfterMs is broken", async () => {
    const { lockPath } = await lockPathInTempDir();
    await writeFile(lockPath, `${process.ppid} 0123abcd\n`);
    await ageFile(lockPath, 60);
    const result = await withFileLock(lockPath, async () => "ran", {
      timeoutMs: 5_000,
      staleAfterMs: 30_000,
    });
    expect(result).toBe("ran");
  });

  test("an empty lock file counts as being written, unless it is old", async () => {
    const { lockPath } = await lockPathInTempDir();
    await writeFile(lockPath, "");
    await expect(withFileLock(lockPath, async () => "ran", { timeoutMs: 100 })).rejects.toThrow(
      /timed out/,
    );
    await ageFile(lockPath, 60);
    expect(await withFileLock(lockPath, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
  });

  test("a breaker that died mid-break does not block breaking forever", async () => {
    const { dir, lockPath } = await lockPathInTempDir();
    await writeFile(lockPath, `${DEAD_PID} 0123abcd\n`);
    await writeFile(`${lockPath}.break`, "");
    await ageFile(`${lockPath}.break`, 60);
    expect(await withFileLock(lockPath, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
    expect(await readdir(dir)).toEqual([]);
  });

  test("release leaves a lock file that is no longer ours", async () => {
    const { lockPath } = await lockPathInTempDir();
    const someoneElse = `${DEAD_PID} ffffffff\n`;
    await withFileLock(lockPath, async () => {
      await writeFile(lockPath, someoneElse);
    });
    expect(await readFile(lockPath, "utf8")).toBe(someoneElse);
  });
});
