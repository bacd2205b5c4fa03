/**
 * A real box for integration tests: started in-process on 127.0.0.1 with a temp repo
 * root and an authorized_keys file that already holds a hand-written line, plus a real
 * sshd whose AuthorizedKeysFile is that file, and a borg client that connects through it.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningBox, startBox } from "../../src/box/start.ts";
import { boxConfigSchema } from "../../src/shared/config/box.ts";
import { createLogger } from "../../src/shared/log.ts";
import { type ProcessResult, runProcess } from "../../src/shared/process/spawn.ts";
import { generateKey, startSshd, type TestKey, type TestSshd } from "./sshd.ts";

export const BOX_TOKEN = "integration-token-0123456789abcdef";

export interface TestBox {
  dir: string;
  root: string;
  keysFile: string;
  handWritten: string;
  box: RunningBox;
  sshd: TestSshd;
  logLines: string[];
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  /** Runs the borg client against a box repo over ssh with `key`. */
  borg(key: TestKey, args: string[], options?: { passphrase?: string }): Promise<ProcessResult>;
  newKey(name: string, type?: string, bits?: number): Promise<TestKey>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  text: string;
}

export interface TestBoxOptions {
  /** Host key files /info advertises (default: the test sshd's real host key). */
  sshHostKeys?: (dir: string) => Promise<string>;
}

/**
 * A box without sshd, for hub tests that only need its HTTP API (registration, refresh,
 * creating and deleting repos): a temp root and authorized_keys, the real box process code.
 */
export async function startHttpOnlyBox(
  options: { sshHostKeys?: string } = {},
): Promise<{ url: string; token: string; root: string; keysFile: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-httpbox-"));
  await mkdir(join(dir, "ssh"), { mode: 0o700 });
  const keysFile = join(dir, "ssh", "authorized_keys");
  let hostKeys = options.sshHostKeys;
  if (hostKeys === undefined) {
    const host = await generateKey(dir, "host_ed25519");
    hostKeys = `${host.privatePath}.pub`;
  }
  const config = boxConfigSchema(dir).parse({
    addr: "127.0.0.1:0",
    repo_root: join(dir, "repos"),
    auth_keys: keysFile,
    token: BOX_TOKEN,
    ssh_host_keys: hostKeys,
    log_level: "silent",
  });
  const box = await startBox(config, {
    logger: createLogger({ level: "silent", write: () => {} }),
  });
  return {
    url: box.url,
    token: BOX_TOKEN,
    root: join(dir, "repos"),
    keysFile,
    async stop() {
      await box.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startTestBox(options: TestBoxOptions = {}): Promise<TestBox> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-box-"));
  const root = join(dir, "repos");
  const keysDir = join(dir, "ssh");
  await mkdir(keysDir, { mode: 0o700 });
  const keysFile = join(keysDir, "authorized_keys");
  const hand = await generateKey(dir, "hand-written");
  // A line the box does not own, with a comment and odd spacing: it must survive byte for byte.
  const handWritten = `# added by the admin, do not touch\n${hand.publicLine}   admin@laptop\n`;
  await writeFile(keysFile, handWritten, { mode: 0o600 });

  const sshd = await startSshd(keysFile);
  const logLines: string[] = [];
  const config = boxConfigSchema(dir).parse({
    addr: "127.0.0.1:0",
    repo_root: root,
    auth_keys: keysFile,
    token: BOX_TOKEN,
    ssh_host: `127.0.0.1:${sshd.port}`,
    ssh_host_keys: options.sshHostKeys ? await options.sshHostKeys(dir) : sshd.hostKeyPublicPath,
    log_level: "debug",
  });
  const logger = createLogger({ level: "debug", write: (line) => logLines.push(line) });
  logger.redactor.add(BOX_TOKEN);
  const box = await startBox(config, { logger });
  const baseDir = join(dir, "client-borg");

  return {
    dir,
    root,
    keysFile,
    handWritten,
    box,
    sshd,
    logLines,
    async api(method, path, body, headers = {}) {
      const response = await fetch(`${box.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${BOX_TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body:
          body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, text };
    },
    borg(key, args, options = {}) {
      return runProcess({
        argv: ["borg", ...args],
        env: {
          BORG_RSH: sshd.borgRsh(key),
          BORG_BASE_DIR: baseDir,
          BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
          BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
          ...(options.passphrase ? { BORG_PASSPHRASE: options.passphrase } : {}),
        },
        captureStdout: true,
        stderrTailLines: 20,
      });
    },
    newKey: (name, type, bits) => generateKey(dir, name, type, bits),
    async stop() {
      await box.stop();
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
