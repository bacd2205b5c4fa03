/**
 * install.sh end to end, never on the real system: every run uses --root <temp dir> (no
 * useradd, chown, systemctl or launchctl) and --dist <temp dist> holding the host binary
 * and a SHA256SUMS written here (no network). Installed units are checked against the
 * renderers, with systemd-analyze where it exists, and the installed binary is started
 * the way its unit would start it (paths moved under the root) to prove the wiring of
 * env file, token and admin password.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { runProcess, spawnProcess } from "../../../src/shared/process/spawn.ts";
import { renderAgentPlist } from "../../../src/shared/service/agent-plist.ts";
import { renderAgentUnit } from "../../../src/shared/service/agent-unit.ts";
import { renderBoxUnit } from "../../../src/shared/service/box-unit.ts";
import { renderServerUnit } from "../../../src/shared/service/server-unit.ts";
import { hostBinary, REPO_ROOT } from "../../helpers/binary.ts";
import { createTestHub } from "../../helpers/hub.ts";

const INSTALL_SH = join(REPO_ROOT, "install.sh");
const ASSET = `borgctl-${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch === "arm64" ? "arm64" : "x64"}`;
const BIN = "usr/local/bin/borgctl";
const UNITS = "etc/systemd/system";

const temps: string[] = [];
async function temp(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `borgctl-install-${name}-`));
  temps.push(dir);
  return dir;
}

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

let dist: string;
let distHash: string;

beforeAll(async () => {
  const binary = await hostBinary();
  dist = await temp("dist");
  await copyFile(binary, join(dist, ASSET));
  distHash = await sha256(join(dist, ASSET));
  await writeFile(join(dist, "SHA256SUMS"), `${distHash}  ${ASSET}\n`);
}, 300_000);

afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function install(...args: string[]): Promise<Run> {
  const result = await runProcess({
    argv: ["bash", INSTALL_SH, ...args],
    cwd: REPO_ROOT,
    captureStdout: true,
    stderrTailLines: 200,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderrTail.join("\n") };
}

async function installOk(...args: string[]): Promise<Run> {
  const run = await install(...args);
  if (run.code !== 0) throw new Error(`install.sh ${args.join(" ")} failed:\n${run.stderr}`);
  return run;
}

const modeOf = async (path: string) => (await lstat(path)).mode & 0o777;
const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** Every entry under dir: path, mode, and size+mtime+content hash for files. */
async function listing(dir: string): Promise<string[]> {
  if (!(await exists(dir))) return ["(missing)"];
  const out: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const info = await lstat(path);
      const mode = (info.mode & 0o7777).toString(8);
      if (entry.isDirectory()) {
        out.push(`${relative(dir, path)}/ ${mode}`);
        await walk(path);
      } else {
        const hash = info.size < 1 << 20 ? await sha256(path) : "";
        out.push(`${relative(dir, path)} ${mode} ${info.size} ${info.mtimeMs} ${hash}`);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

/** KEY=value lines of an env file (comments skipped). */
async function envFile(path: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of (await readFile(path, "utf8")).split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

async function freePort(): Promise<number> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await Bun.sleep(100);
  }
}

/**
 * Starts what a unit's ExecStart says, with absolute paths moved under `root` and the
 * unit's env file (values starting with "@/" moved too) plus `overrides`.
 */
async function startLikeUnit(root: string, unitText: string, overrides: Record<string, string>) {
  const execStart = /^ExecStart=(.*)$/m.exec(unitText)?.[1] as string;
  const envPath = /^EnvironmentFile=(.*)$/m.exec(unitText)?.[1] as string;
  const env = await envFile(join(root, envPath));
  for (const [key, value] of Object.entries(env)) {
    if (value.startsWith("@/")) env[key] = `@${join(root, value.slice(1))}`;
  }
  const lines: string[] = [];
  const proc = spawnProcess({
    argv: execStart.split(" ").map((arg) => (arg.startsWith("/") ? join(root, arg) : arg)),
    env: { ...env, ...overrides },
    onStdoutLine: (line) => lines.push(line),
    onStderrLine: (line) => lines.push(line),
    grace: { interruptMs: 3_000, terminateMs: 2_000 },
  });
  const stop = () => {
    proc.cancel();
    return proc.done;
  };
  return { lines, stop };
}

/** systemd-analyze verify on a unit whose ExecStart binary exists; skipped (with a note) without it. */
async function verifyUnit(root: string, name: string): Promise<void> {
  if (!Bun.which("systemd-analyze")) {
    console.log(`note: systemd-analyze is not installed here; ${name} not verified by systemd`);
    return;
  }
  const dir = await temp("verify");
  const text = await readFile(join(root, UNITS, name), "utf8");
  // verify checks that ExecStart's program exists: point it at the installed copy.
  await writeFile(join(dir, name), text.replaceAll(`/${BIN}`, join(root, BIN)));
  const result = await runProcess({
    argv: ["systemd-analyze", "verify", "--man=no", join(dir, name)],
    cwd: dir,
    captureStdout: true,
    stderrTailLines: 50,
  });
  // verify exits 0 even for unknown keys and bad values; those are printed to stderr.
  expect(result.stderrTail).toEqual([]);
  expect(result.exitCode).toBe(0);
}

describe("install.sh", () => {
  test("--help prints the usage; bad usage exits 2 before touching anything", async () => {
    const help = await install("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: install.sh box|agent|server [options]");
    const root = await temp("usage");
    const fresh = join(root, "fresh");
    for (const args of [
      [],
      ["box", "agent"],
      ["box", "--home", "relative/dir"],
      ["box", "--home", "/var/lib/my borg"],
      ["box", "--server", "https://hub", "--token", "t"],
      ["agent", "--server", "https://hub"],
      ["agent", "--addr", ":1"],
      ["server", "--frobnicate"],
      ["server", "--addr", "nonsense"],
      ["box", "--purge"],
    ]) {
      const run = await install(...args, "--dist", dist, "--root", fresh);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^error: /);
    }
    expect(await exists(fresh)).toBe(false);
  });

  test("box: binary, borg's directories, token, env file and the hardened unit; the box runs from them", async () => {
    const root = await temp("box");
    const run = await installOk("box", "--dist", dist, "--root", root, "--no-start");

    expect(await sha256(join(root, BIN))).toBe(distHash);
    expect(await modeOf(join(root, BIN))).toBe(0o755);
    const home = join(root, "var/lib/borg");
    expect(await modeOf(join(home, "repos"))).toBe(0o700);
    expect(await modeOf(join(home, ".ssh"))).toBe(0o700);
    expect(await modeOf(join(home, ".ssh/authorized_keys"))).toBe(0o600);
    expect(await readFile(join(home, ".ssh/authorized_keys"), "utf8")).toBe("");
    expect(await modeOf(join(home, ".config/borg"))).toBe(0o700);
    expect(await modeOf(join(home, ".cache/borg"))).toBe(0o700);

    const tokenText = await readFile(join(root, "etc/borgctl/box.token"), "utf8");
    expect(tokenText).toMatch(/^[0-9a-f]{40}\n$/);
    const token = tokenText.trim();
    expect(await modeOf(join(root, "etc/borgctl/box.token"))).toBe(0o640);
    expect(await modeOf(join(root, "etc/borgctl/box.env"))).toBe(0o640);
    expect(await envFile(join(root, "etc/borgctl/box.env"))).toEqual({
      BORGBOX_ADDR: ":9999",
      BORGBOX_TOKEN: "@/etc/borgctl/box.token",
    });

    // The unit is exactly what the binary renders (one source of truth), 0644.
    const unit = await readFile(join(root, UNITS, "borgctl-box.service"), "utf8");
    expect(unit).toBe(renderBoxUnit({ home: "/var/lib/borg" }));
    expect(await modeOf(join(root, UNITS, "borgctl-box.service"))).toBe(0o644);
    await verifyUnit(root, "borgctl-box.service");

    // What it told the person, and what --root kept it from doing on this system.
    expect(run.stdout).toMatch(/Box URL: http:\/\/[^/\s]+:9999\/api\/v1\n/);
    expect(run.stdout).toContain(`Token:   ${token}\n`);
    expect(run.stdout).toContain("create system user borg (home /var/lib/borg)");
    expect(run.stdout).toContain(`chown root:borg ${join(root, "etc/borgctl/box.token")}`);
    expect(run.stdout).toContain(`chown borg:borg ${join(home, ".ssh/authorized_keys")}`);
    expect(run.stdout).toContain("systemctl enable --now borgctl-box.service");

    // Started as the unit starts it: the token from the token file guards the API.
    const port = await freePort();
    const box = await startLikeUnit(root, unit, { BORGBOX_ADDR: `127.0.0.1:${port}` });
    try {
      await waitFor(`http://127.0.0.1:${port}/api/v1/health`);
      const repos = await fetch(`http://127.0.0.1:${port}/api/v1/repos`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(repos.status).toBe(200);
      expect(await repos.json()).toEqual([]);
      const wrong = await fetch(`http://127.0.0.1:${port}/api/v1/repos`, {
        headers: { authorization: `Bearer ${"0".repeat(40)}` },
      });
      expect(wrong.status).toBe(401);
    } finally {
      await box.stop();
    }
  }, 60_000);

  test("box: a second run upgrades the binary and keeps the token, env file and repos", async () => {
    const root = await temp("box-again");
    await installOk("box", "--dist", dist, "--root", root, "--no-start");
    const token = await readFile(join(root, "etc/borgctl/box.token"), "utf8");
    const env = await readFile(join(root, "etc/borgctl/box.env"), "utf8");
    await mkdir(join(root, "var/lib/borg/repos/laptop"));
    await writeFile(join(root, "var/lib/borg/.ssh/authorized_keys"), "ssh-ed25519 AAAA kept\n");
    await writeFile(join(root, BIN), "#!/bin/sh\necho an older borgctl\n"); // "the old version"

    const again = await installOk(
      "box",
      "--dist",
      dist,
      "--root",
      root,
      "--no-start",
      "--addr",
      ":7777",
    );
    expect(await sha256(join(root, BIN))).toBe(distHash);
    expect(await readFile(join(root, "etc/borgctl/box.token"), "utf8")).toBe(token);
    expect(await readFile(join(root, "etc/borgctl/box.env"), "utf8")).toBe(env);
    expect(await readFile(join(root, "var/lib/borg/.ssh/authorized_keys"), "utf8")).toBe(
      "ssh-ed25519 AAAA kept\n",
    );
    expect(await exists(join(root, "var/lib/borg/repos/laptop"))).toBe(true);
    expect(again.stdout).toContain("Token:   unchanged");
    expect(again.stdout).not.toContain(token.trim());
    expect(again.stderr).toContain("edit it to listen on :7777");
    // No leftovers from the atomic writes.
    expect((await listing(root)).filter((l) => /\.(tmp|new)\./.test(l))).toEqual([]);
  }, 60_000);

  test("refuses a corrupted binary or a SHA256SUMS without its entry, and changes nothing", async () => {
    const root = await temp("refuse");
    await installOk("box", "--dist", dist, "--root", root, "--no-start");
    const before = await listing(root);

    const corrupted = await temp("dist-corrupted");
    await writeFile(join(corrupted, ASSET), "not the binary that was released\n");
    await copyFile(join(dist, "SHA256SUMS"), join(corrupted, "SHA256SUMS"));
    const noEntry = await temp("dist-no-entry");
    await symlink(join(dist, ASSET), join(noEntry, ASSET));
    await writeFile(join(noEntry, "SHA256SUMS"), `${distHash}  borgctl-plan9-mips\n`);

    for (const [bad, message] of [
      [corrupted, `checksum mismatch for ${ASSET}`],
      [noEntry, `SHA256SUMS has no entry for ${ASSET}`],
    ] as const) {
      for (const target of [root, join(root, "fresh")]) {
        const run = await install("box", "--dist", bad, "--root", target, "--no-start");
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(message);
        expect(run.stderr).toContain("nothing was changed");
        expect(run.stdout).not.toContain("installed");
      }
      expect(await listing(root)).toEqual(before);
    }
  }, 60_000);

  test("downloads from --base-url: latest or a pinned --version, verified the same way", async () => {
    // A release server on loopback with GitHub's layout; v9.9.9 serves a tampered binary.
    const requested: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        requested.push(path);
        const match = /^\/releases\/(?:latest\/download|download\/(v[\d.]+))\/([\w.-]+)$/.exec(
          path,
        );
        if (!match) return new Response("not found", { status: 404 });
        const [, version, name] = match;
        if (version === "v9.9.9" && name === ASSET) return new Response("tampered");
        return new Response(Bun.file(join(dist, name as string)));
      },
    });
    try {
      const base = `http://127.0.0.1:${server.port}/releases`;
      const root = await temp("download");
      const latest = await installOk("agent", "--base-url", base, "--root", root, "--no-start");
      expect(latest.stderr).toContain("plain HTTP");
      expect(await sha256(join(root, BIN))).toBe(distHash);
      expect(requested).toEqual([
        `/releases/latest/download/${ASSET}`,
        "/releases/latest/download/SHA256SUMS",
      ]);

      const before = await listing(root);
      const pinned = await install(
        "agent",
        "--base-url",
        base,
        "--version",
        "v9.9.9",
        "--root",
        root,
      );
      expect(pinned.code).toBe(1);
      expect(pinned.stderr).toContain("checksum mismatch");
      expect(requested.slice(2)).toEqual([
        `/releases/download/v9.9.9/${ASSET}`,
        "/releases/download/v9.9.9/SHA256SUMS",
      ]);
      expect(await listing(root)).toEqual(before);

      const missing = await install("agent", "--base-url", `${base}/nothing`, "--root", root);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("download of");
      expect(await listing(root)).toEqual(before);
    } finally {
      server.stop(true);
    }
  }, 60_000);

  test("box --uninstall removes the unit and binary, keeps config and repos; --purge keeps only the repos", async () => {
    const root = await temp("box-uninstall");
    await installOk("box", "--dist", dist, "--root", root, "--no-start");
    await mkdir(join(root, "var/lib/borg/repos/laptop"));

    const run = await installOk("box", "--uninstall", "--root", root);
    expect(await exists(join(root, UNITS, "borgctl-box.service"))).toBe(false);
    expect(await exists(join(root, BIN))).toBe(false);
    expect(await exists(join(root, "etc/borgctl/box.token"))).toBe(true);
    expect(await exists(join(root, "etc/borgctl/box.env"))).toBe(true);
    expect(await exists(join(root, "var/lib/borg/repos/laptop"))).toBe(true);
    expect(run.stdout).toContain("systemctl disable --now borgctl-box.service");

    await installOk("box", "--uninstall", "--purge", "--root", root);
    expect(await exists(join(root, "etc/borgctl"))).toBe(false);
    expect(await exists(join(root, "var/lib/borg/repos/laptop"))).toBe(true);
  }, 60_000);

  test("uninstalling one role keeps the binary while another role's service still uses it", async () => {
    const root = await temp("two-roles");
    await installOk("box", "--dist", dist, "--root", root, "--no-start");
    await installOk("agent", "--dist", dist, "--root", root, "--no-start");
    const run = await installOk("box", "--uninstall", "--root", root);
    expect(run.stdout).toContain("another borgctl service still uses it");
    expect(await sha256(join(root, BIN))).toBe(distHash);
    await installOk("agent", "--uninstall", "--root", root);
    expect(await exists(join(root, BIN))).toBe(false);
    expect(await exists(join(root, UNITS, "borgctl-agent.service"))).toBe(false);
  }, 60_000);

  test("server: data dir, env with a first-admin password printed once, hardened unit; the admin signs in", async () => {
    const root = await temp("server");
    const run = await installOk("server", "--dist", dist, "--root", root, "--no-start");
    const dataDir = join(root, "var/lib/borgctl/server");
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(join(root, "etc/borgctl/server.env"))).toBe(0o640);
    const env = await envFile(join(root, "etc/borgctl/server.env"));
    expect(env.BORGCTL_ADDR).toBe("127.0.0.1:8080");
    const password = env.BORGCTL_ADMIN_PASSWORD as string;
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(run.stdout).toContain("Hub URL: http://127.0.0.1:8080\n");
    expect(run.stdout).toContain(`Sign in as admin with password: ${password}\n`);
    expect(run.stdout).toContain("create system user borgctl (home /var/lib/borgctl/server)");

    const unit = await readFile(join(root, UNITS, "borgctl-server.service"), "utf8");
    expect(unit).toBe(renderServerUnit({ dataDir: "/var/lib/borgctl/server" }));
    await verifyUnit(root, "borgctl-server.service");

    const port = await freePort();
    const hub = await startLikeUnit(root, unit, { BORGCTL_ADDR: `127.0.0.1:${port}` });
    try {
      await waitFor(`http://127.0.0.1:${port}/api/health`);
      const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password }),
      });
      expect(login.status).toBe(200);
    } finally {
      await hub.stop();
    }
    // The hub used the installer's password, so it announced none of its own.
    expect(hub.lines.join("\n")).not.toContain("First start");
    expect(await exists(join(dataDir, "borgctl.sqlite"))).toBe(true);

    // Again: nothing new to print, the password stays; --uninstall --purge removes the data.
    const again = await installOk("server", "--dist", dist, "--root", root, "--no-start");
    expect(again.stdout).not.toContain(password);
    expect((await envFile(join(root, "etc/borgctl/server.env"))).BORGCTL_ADMIN_PASSWORD).toBe(
      password,
    );
    await installOk("server", "--uninstall", "--root", root);
    expect(await exists(join(dataDir, "borgctl.sqlite"))).toBe(true);
    await installOk("server", "--uninstall", "--purge", "--root", root);
    expect(await exists(dataDir)).toBe(false);
    expect(await exists(join(root, UNITS, "borgctl-server.service"))).toBe(false);
    expect(await exists(join(root, BIN))).toBe(false);
  }, 60_000);

  test("agent: registers with the hub, installs the low-priority unit; a re-run keeps the registration", async () => {
    const hub = createTestHub();
    const served = hub.serve();
    try {
      const admin = await hub.login();
      const created = await hub.request("POST", "/api/managed-machines/enrollment-tokens", {
        token: admin,
        body: { name: "install test", expires_in_minutes: 10 },
      });
      const enrollment = (created.body as { token: string }).token;
      const root = await temp("agent");
      const args = ["--dist", dist, "--root", root, "--no-start"];
      const run = await installOk(
        "agent",
        ...args,
        "--server",
        served.url,
        "--token",
        enrollment,
        "--name",
        "installed-agent",
      );
      expect(run.stdout).toContain("Registered as");
      const config = join(root, "etc/borgctl/agent.toml");
      expect(await modeOf(config)).toBe(0o600);
      expect(await readFile(config, "utf8")).toContain(`server_url = "${served.url}"`);
      expect(await modeOf(join(root, "var/lib/borgctl/agent"))).toBe(0o700);
      const machines = await hub.request("GET", "/api/managed-machines", { token: admin });
      expect((machines.body as { name: string }[]).map((m) => m.name)).toEqual(["installed-agent"]);

      const unit = await readFile(join(root, UNITS, "borgctl-agent.service"), "utf8");
      expect(unit).toBe(renderAgentUnit({ config: "/etc/borgctl/agent.toml" }));
      await verifyUnit(root, "borgctl-agent.service");

      const configBefore = await readFile(config, "utf8");
      const again = await installOk(
        "agent",
        ...args,
        "--server",
        served.url,
        "--token",
        enrollment,
      );
      expect(again.stdout).toContain("already registered");
      expect(await readFile(config, "utf8")).toBe(configBefore);

      await installOk("agent", "--uninstall", "--root", root);
      expect(await exists(join(root, UNITS, "borgctl-agent.service"))).toBe(false);
      expect(await exists(config)).toBe(true);
      await installOk("agent", "--uninstall", "--purge", "--root", root);
      expect(await exists(config)).toBe(false);
      expect(await exists(join(root, "var/lib/borgctl/agent"))).toBe(false);
    } finally {
      served.stop();
      hub.close();
    }
  }, 60_000);

  test("agent without --server: the unit is installed, not started, and the next steps are printed", async () => {
    const root = await temp("agent-unregistered");
    const run = await installOk("agent", "--dist", dist, "--root", root);
    expect(await exists(join(root, UNITS, "borgctl-agent.service"))).toBe(true);
    expect(await exists(join(root, "etc/borgctl/agent.toml"))).toBe(false);
    expect(run.stdout).toContain("Not registered yet.");
    expect(run.stdout).toContain("sudo borgctl agent register --server https://HUB");
  }, 60_000);

  test("the agent's launchd plist from the installed binary is the renderer's, and a valid plist", async () => {
    const root = await temp("plist");
    await installOk("agent", "--dist", dist, "--root", root, "--no-start");
    const result = await runProcess({
      argv: [join(root, BIN), "agent", "service", "print", "--platform", "darwin"],
      captureStdout: true,
    });
    expect(result.exitCode).toBe(0);
    const config = "/Library/Application Support/borgctl/agent.toml";
    // Same text as the renderer, whose unit test parses it with a strict XML reader.
    expect(result.stdout).toBe(renderAgentPlist({ config }));
    const file = join(root, "agent.plist");
    await writeFile(file, result.stdout);
    if (Bun.which("plutil")) {
      const lint = await runProcess({ argv: ["plutil", "-lint", file], captureStdout: true });
      expect(lint.exitCode).toBe(0);
    } else if (Bun.which("python3")) {
      const parsed = await runProcess({
        argv: [
          "python3",
          "-c",
          "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))",
          file,
        ],
        captureStdout: true,
        stderrTailLines: 20,
      });
      expect(parsed.stderrTail).toEqual([]);
      const plist = JSON.parse(parsed.stdout);
      expect(plist.ProgramArguments).toEqual([
        "/usr/local/bin/borgctl",
        "agent",
        "run",
        "--config",
        config,
      ]);
      expect(plist.Label).toBe("io.github.borgctl.agent");
    } else {
      console.log(
        "note: neither plutil nor python3 here; the plist is checked by the unit test's XML reader",
      );
    }
  }, 60_000);
});
