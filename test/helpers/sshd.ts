/**
 * A real OpenSSH server on 127.0.0.1 for tests (recipe in BORG.md): its own host key,
 * config and pid file in a private temp dir, AuthorizedKeysFile pointing at the file the
 * box manages. It logs in only the user running the tests.
 */
import { existsSync, mkdirSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProcess, spawnProcess } from "../../src/shared/process/spawn.ts";
import { currentUserName } from "../../src/shared/user.ts";

export const SSHD = "/usr/sbin/sshd";

export interface TestKey {
  privatePath: string;
  publicLine: string;
}

export async function generateKey(
  dir: string,
  name: string,
  type = "ed25519",
  bits?: number,
): Promise<TestKey> {
  const privatePath = join(dir, name);
  const result = await runProcess({
    argv: [
      "ssh-keygen",
      "-q",
      "-t",
      type,
      ...(bits ? ["-b", String(bits)] : []),
      "-N",
      "",
      "-C",
      `${name}@test`,
      "-f",
      privatePath,
    ],
    stderrTailLines: 5,
  });
  if (result.exitCode !== 0) throw new Error(`ssh-keygen failed: ${result.stderrTail.join(" ")}`);
  return { privatePath, publicLine: (await readFile(`${privatePath}.pub`, "utf8")).trim() };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface TestSshd {
  port: number;
  user: string;
  dir: string;
  /** The server's host public key file and its `TYPE BASE64 COMMENT` line. */
  hostKeyPublicPath: string;
  hostKeyLine: string;
  /** sshd's own log (stderr), for failure messages. */
  log: string[];
  /** ssh://USER@127.0.0.1:PORT<path> */
  url(path: string): string;
  /** BORG_RSH for a client using `key` (host key checking off: the host key is throwaway). */
  borgRsh(key: TestKey): string;
  stop(): Promise<void>;
}

export async function startSshd(authorizedKeysFile: string): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-sshd-"));
  await chmod(dir, 0o700);
  const hostKey = await generateKey(dir, "host_ed25519");
  const port = await freePort();
  const user = currentUserName();
  // A root-run sshd needs its privilege separation directory.
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey.privatePath}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeysFile}`,
      `AllowUsers ${user}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The temp dirs live under /tmp (world-writable): StrictModes would refuse the path.
      "StrictModes no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const lines: string[] = [];
  const ready = Promise.withResolvers<void>();
  const proc = spawnProcess({
    argv: [SSHD, "-D", "-e", "-f", config],
    onStderrLine: (line) => {
      lines.push(line);
      if (line.includes("Server listening on")) ready.resolve();
    },
    grace: { interruptMs: 500, terminateMs: 500 },
  });
  const exited = proc.done.then((r) => {
    throw new Error(`sshd exited (${r.exitCode ?? r.signal}): ${lines.join("\n")}`);
  });
  await Promise.race([ready.promise, exited]);
  exited.catch(() => {});
  return {
    port,
    user,
    dir,
    hostKeyPublicPath: `${hostKey.privatePath}.pub`,
    hostKeyLine: hostKey.publicLine,
    log: lines,
    url: (path) => `ssh://${user}@127.0.0.1:${port}${path}`,
    borgRsh: (key) =>
      `ssh -i ${key.privatePath} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`,
    async stop() {
      proc.cancel();
      await proc.done;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
