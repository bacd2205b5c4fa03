import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderAgentPlist } from "../../../../src/shared/service/agent-plist.ts";
import {
  agentServiceFile,
  installAgentService,
  ServiceCommandError,
  type ServiceManager,
  uninstallAgentService,
} from "../../../../src/shared/service/agent-service.ts";
import { renderAgentUnit } from "../../../../src/shared/service/agent-unit.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "borgctl-service-"));
  dirs.push(dir);
  return dir;
}

/** Records the systemctl/launchctl calls instead of running them; `failOn` makes one fail. */
function fakeManager(options: { running?: boolean; failOn?: string } = {}) {
  const calls: string[] = [];
  const manager: ServiceManager = {
    async run(argv) {
      const line = argv.join(" ");
      calls.push(line);
      const ok = options.failOn === undefined || !line.startsWith(options.failOn);
      return { ok, message: ok ? "" : "Access denied" };
    },
    running: () => options.running ?? true,
  };
  return { manager, calls };
}

const CONFIG = "/etc/borgctl/agent.toml";

describe("agent service install/uninstall", () => {
  test("files live where systemd and launchd look for them", () => {
    expect(agentServiceFile("linux")).toBe("/etc/systemd/system/borgctl-agent.service");
    expect(agentServiceFile("darwin")).toBe("/Library/LaunchDaemons/io.github.borgctl.agent.plist");
  });

  test("without a manager (--root): writes the unit 0644 under the root and runs nothing", async () => {
    const root = await tempRoot();
    const report = await installAgentService({
      platform: "linux",
      config: CONFIG,
      root,
      start: true,
    });
    const file = join(root, "etc/systemd/system/borgctl-agent.service");
    expect(report.file).toBe(file);
    expect(await readFile(file, "utf8")).toBe(renderAgentUnit({ config: CONFIG }));
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(report.notes.join("\n")).toContain("systemctl enable --now borgctl-agent.service");
    // No temp file is left next to it.
    expect(await readdir(join(root, "etc/systemd/system"))).toEqual(["borgctl-agent.service"]);
  });

  test("systemd: reload, enable, restart (so an upgrade takes effect); --no-start only reloads", async () => {
    const root = await tempRoot();
    const started = fakeManager();
    await installAgentService({
      platform: "linux",
      config: CONFIG,
      root,
      start: true,
      manager: started.manager,
    });
    expect(started.calls).toEqual([
      "systemctl daemon-reload",
      "systemctl enable borgctl-agent.service",
      "systemctl restart borgctl-agent.service",
    ]);
    const notStarted = fakeManager();
    const report = await installAgentService({
      platform: "linux",
      config: CONFIG,
      root,
      start: false,
      manager: notStarted.manager,
    });
    expect(notStarted.calls).toEqual(["systemctl daemon-reload"]);
    expect(report.notes.join("\n")).toContain("--no-start");
  });

  test("systemd not running (a container): the unit is written, nothing is run, the note says how to start", async () => {
    const root = await tempRoot();
    const { manager, calls } = fakeManager({ running: false });
    const report = await installAgentService({
      platform: "linux",
      config: CONFIG,
      root,
      start: true,
      manager,
    });
    expect(calls).toEqual([]);
    expect(report.notes.join("\n")).toContain("systemd is not running here");
    expect(await readFile(report.file, "utf8")).toContain("ExecStart=");
  });

  test("launchd: the plist goes to LaunchDaemons, then enable, bootout, bootstrap", async () => {
    const root = await tempRoot();
    const config = "/Library/Application Support/borgctl/agent.toml";
    const { manager, calls } = fakeManager();
    const report = await installAgentService({
      platform: "darwin",
      config,
      root,
      start: true,
      manager,
    });
    expect(report.file).toBe(join(root, "Library/LaunchDaemons/io.github.borgctl.agent.plist"));
    expect(await readFile(report.file, "utf8")).toBe(renderAgentPlist({ config }));
    expect(calls).toEqual([
      "launchctl enable system/io.github.borgctl.agent",
      "launchctl bootout system/io.github.borgctl.agent",
      "launchctl bootstrap system /Library/LaunchDaemons/io.github.borgctl.agent.plist",
    ]);
  });

  test("launchd: a failing bootout (job not loaded) is fine, a failing bootstrap is an error", async () => {
    const root = await tempRoot();
    const config = "/Library/Application Support/borgctl/agent.toml";
    const bootout = fakeManager({ failOn: "launchctl bootout" });
    await installAgentService({
      platform: "darwin",
      config,
      root,
      start: true,
      manager: bootout.manager,
    });
    expect(bootout.calls).toHaveLength(3);
    const bootstrap = fakeManager({ failOn: "launchctl bootstrap" });
    await expect(
      installAgentService({
        platform: "darwin",
        config,
        root,
        start: true,
        manager: bootstrap.manager,
      }),
    ).rejects.toThrow(ServiceCommandError);
  });

  test("a failing systemctl is a ServiceCommandError naming the command and its message", async () => {
    const root = await tempRoot();
    const { manager } = fakeManager({ failOn: "systemctl enable" });
    const error = await installAgentService({
      platform: "linux",
      config: CONFIG,
      root,
      start: true,
      manager,
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ServiceCommandError);
    expect((error as Error).message).toBe(
      "systemctl enable borgctl-agent.service failed: Access denied",
    );
  });

  test("uninstall: disable --now, remove the file, reload; a second uninstall says it was not installed", async () => {
    const root = await tempRoot();
    await installAgentService({ platform: "linux", config: CONFIG, root, start: false });
    const { manager, calls } = fakeManager();
    const report = await uninstallAgentService({ platform: "linux", root, manager });
    expect(calls).toEqual([
      "systemctl disable --now borgctl-agent.service",
      "systemctl daemon-reload",
    ]);
    expect(report.notes[0]).toBe(`removed ${report.file}`);
    expect(await stat(report.file).catch(() => null)).toBeNull();
    const again = await uninstallAgentService({ platform: "linux", root });
    expect(again.notes[0]).toContain("was not installed");
  });

  test("uninstall on macOS boots the job out and removes the plist", async () => {
    const root = await tempRoot();
    const config = "/Library/Application Support/borgctl/agent.toml";
    await installAgentService({ platform: "darwin", config, root, start: false });
    const { manager, calls } = fakeManager();
    const report = await uninstallAgentService({ platform: "darwin", root, manager });
    expect(calls).toEqual(["launchctl bootout system/io.github.borgctl.agent"]);
    expect(await stat(report.file).catch(() => null)).toBeNull();
  });
});
