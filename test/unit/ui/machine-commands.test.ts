import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runProcess } from "../../../src/shared/process/spawn.ts";
import {
  hubAddress,
  INSTALL_SCRIPT_URL,
  installCommand,
  isLoopbackUrl,
  registerCommand,
  shellQuote,
} from "../../../src/ui/machine-commands.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");

describe("add-machine commands", () => {
  test("the install one-liner pipes the release's install.sh into bash for the agent role, with the name", () => {
    expect(installCommand("https://hub.example.com", "borgctl_enroll_abc", "db-server")).toBe(
      "curl -fsSL https://github.com/borgctl/borgctl/releases/latest/download/install.sh" +
        " | sudo bash -s -- agent --server https://hub.example.com --token borgctl_enroll_abc" +
        " --name db-server",
    );
  });

  test("the manual register command names the hub, the token and the machine", () => {
    expect(registerCommand("http://127.0.0.1:8080", "borgctl_enroll_xyz", "laptop")).toBe(
      "borgctl agent register --server http://127.0.0.1:8080 --token borgctl_enroll_xyz --name laptop",
    );
  });

  test("a name with spaces or quotes is one shell word, read back unchanged by a real shell", async () => {
    const names = ["Anna's laptop", "a b", "$(rm -rf /)", "`x`", 'q"uote', "plain-name.lan"];
    for (const name of names) {
      const echoed = await runProcess({
        argv: ["/bin/sh", "-c", `printf %s ${shellQuote(name)}`],
        captureStdout: true,
      });
      expect(echoed.stdout).toBe(name);
    }
    expect(shellQuote("db-server")).toBe("db-server");
    expect(registerCommand("http://h", "t", "Anna's laptop")).toEndWith(
      "--name 'Anna'\\''s laptop'",
    );
  });

  test("the hub's public URL wins over the browser's address; a trailing slash is dropped", () => {
    expect(hubAddress("https://backup.example.com/", "http://127.0.0.1:8080")).toBe(
      "https://backup.example.com",
    );
    expect(hubAddress(null, "http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(hubAddress(undefined, "http://10.0.0.5:8080")).toBe("http://10.0.0.5:8080");
  });

  test("loopback addresses are recognised, others are not", () => {
    for (const url of [
      "http://127.0.0.1:8080",
      "http://localhost:1",
      "http://[::1]:8080",
      "http://127.1.2.3",
    ])
      expect(isLoopbackUrl(url)).toBe(true);
    for (const url of [
      "http://10.0.0.5:8080",
      "https://hub.example.com",
      "http://128.0.0.1",
      "nonsense",
    ])
      expect(isLoopbackUrl(url)).toBe(false);
  });

  test("the script URL is install.sh's own default release location", async () => {
    const script = await readFile(join(ROOT, "install.sh"), "utf8");
    const base = /^DEFAULT_BASE_URL="([^"]+)"$/m.exec(script)?.[1];
    expect(base).toBeDefined();
    expect(INSTALL_SCRIPT_URL).toBe(`${base}/latest/download/install.sh`);
  });
});
