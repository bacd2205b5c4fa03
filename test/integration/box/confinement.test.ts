/**
 * The key line the box writes must confine a key to its one repo: another repo, a path
 * that climbs out of it, a shell command and port forwarding all fail over real ssh. A
 * key lent to a repo (POST /repos/{name}/keys) is confined the same way, follows the
 * repo's append-only, and reaches nothing once it is taken back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import { startTestBox, type TestBox } from "../../helpers/box.ts";
import { freePort, type TestKey } from "../../helpers/sshd.ts";

let t: TestBox;
let r1Key: TestKey;

beforeAll(async () => {
  t = await startTestBox();
  r1Key = await t.newKey("r1");
  const r2Key = await t.newKey("r2");
  expect((await t.api("POST", "/repos", { name: "r1", pubkey: r1Key.publicLine })).status).toBe(
    201,
  );
  expect((await t.api("POST", "/repos", { name: "r2", pubkey: r2Key.publicLine })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await t.stop();
});

const init = (path: string) => t.borg(r1Key, ["init", "--encryption=none", t.sshd.url(path)]);

describe("a registered key reaches only its own repo", () => {
  test("its own repo works", async () => {
    const result = await init(join(t.root, "r1"));
    expect(result.exitCode).toBe(0);
  });

  test("another repo, a sub-path, a climb out and a system path all fail", async () => {
    for (const path of [
      join(t.root, "r2"),
      join(t.root, "r1", "sub"),
      `${join(t.root, "r1")}/../r2`,
      join(t.root, "new-one"),
      "/etc",
    ]) {
      const result = await init(path);
      expect({ path, exitCode: result.exitCode }).toEqual({ path, exitCode: 2 });
      expect(result.stderrTail.join("\n")).toMatch(/PathNotAllowed|not allowed|Permission denied/i);
    }
    expect(existsSync(join(t.root, "r2", "config"))).toBe(false);
    expect(existsSync(join(t.root, "new-one"))).toBe(false);
  });

  test("a shell command runs borg serve instead, and port forwarding is refused", async () => {
    const marker = join("/tmp", `borgctl-pwned-${process.pid}`);
    const ssh = (extra: string[]) =>
      runProcess({
        argv: [
          "ssh",
          "-i",
          r1Key.privatePath,
          "-p",
          String(t.sshd.port),
          "-o",
          "IdentitiesOnly=yes",
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          ...extra,
          `${t.sshd.user}@127.0.0.1`,
          `touch ${marker}`,
        ],
        captureStdout: true,
        signal: AbortSignal.timeout(20_000),
      });
    const shell = await ssh([]);
    expect(shell.exitCode).not.toBe(0);
    // The forced command ran borg, which refused the requested command as a borg command.
    expect(shell.stderrTail.join("\n")).toContain("invalid choice: '/tmp/");
    expect(existsSync(marker)).toBe(false);
    // A remote forward is requested at login (a local one only when used): `restrict` refuses it.
    const remotePort = await freePort();
    const forward = await ssh([
      "-o",
      "ExitOnForwardFailure=yes",
      "-R",
      `127.0.0.1:${remotePort}:127.0.0.1:${t.sshd.port}`,
    ]);
    expect(forward.exitCode).toBe(255);
    expect(forward.stderrTail.join("\n")).toMatch(/forwarding/i);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("a lent key reaches only the repo it was lent for, and only while lent", () => {
  test("reads r1, not r2; append-only follows the repo; gone after DELETE", async () => {
    const lentKey = await t.newKey("lent");
    const r1 = t.sshd.url(join(t.root, "r1"));
    expect((await t.borg(lentKey, ["list", r1])).exitCode).not.toBe(0); // not lent yet
    const lend = await t.api("POST", "/repos/r1/keys", {
      tag: "restore-1",
      pubkey: lentKey.publicLine,
    });
    expect(lend.status).toBe(204);
    // The same key for another repo: sshd would pick the first line, so it is refused.
    const twice = await t.api("POST", "/repos/r2/keys", { tag: "x", pubkey: lentKey.publicLine });
    expect(twice.status).toBe(409);
    // The owner's key cannot be lent elsewhere either.
    expect(
      (await t.api("POST", "/repos/r2/keys", { tag: "y", pubkey: r1Key.publicLine })).status,
    ).toBe(409);
    expect((await t.borg(lentKey, ["list", r1])).exitCode).toBe(0);
    const other = await t.borg(lentKey, [
      "init",
      "--encryption=none",
      t.sshd.url(join(t.root, "r2")),
    ]);
    expect(other.exitCode).toBe(2);
    // Listing repos shows no extra repo for the lent line.
    const repos = (await t.api("GET", "/repos")).body as { name: string }[];
    expect(repos.map((r) => r.name).sort()).toEqual(["r1", "r2"]);

    expect((await t.api("PATCH", "/repos/r1", { append_only: true })).status).toBe(200);
    const deleted = await t.borg(lentKey, ["delete", "--force", r1]);
    expect(deleted.exitCode).not.toBe(0);
    expect(deleted.stderrTail.join("\n")).toMatch(/append-only/i);
    expect(existsSync(join(t.root, "r1", "config"))).toBe(true);
    expect((await t.api("PATCH", "/repos/r1", { append_only: false })).status).toBe(200);

    expect((await t.api("DELETE", "/repos/r1/keys/restore-1")).status).toBe(204);
    expect((await t.api("DELETE", "/repos/r1/keys/restore-1")).status).toBe(404);
    expect((await t.borg(lentKey, ["list", r1])).exitCode).not.toBe(0);
    expect((await t.borg(r1Key, ["list", r1])).exitCode).toBe(0);
  });
});
