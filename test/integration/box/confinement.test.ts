/**
 * The key line the box writes must confine a key to its one repo: another repo, a path
 * that climbs out of it, a shell command and port forwarding all fail over real ssh.
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
