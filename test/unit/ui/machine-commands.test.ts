import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  INSTALL_SCRIPT_URL,
  installCommand,
  registerCommand,
} from "../../../src/ui/machine-commands.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");

describe("add-machine commands", () => {
  test("the install one-liner pipes the release's install.sh into bash for the agent role", () => {
    expect(installCommand("https://hub.example.com", "borgctl_enroll_abc")).toBe(
      "curl -fsSL https://github.com/borgctl/borgctl/releases/latest/download/install.sh" +
        " | sudo bash -s -- agent --server https://hub.example.com --token borgctl_enroll_abc",
    );
  });

  test("the manual register command names the hub and the token", () => {
    expect(registerCommand("http://127.0.0.1:8080", "borgctl_enroll_xyz")).toBe(
      "borgctl agent register --server http://127.0.0.1:8080 --token borgctl_enroll_xyz",
    );
  });

  test("the script URL is install.sh's own default release location", async () => {
    const script = await readFile(join(ROOT, "install.sh"), "utf8");
    const base = /^DEFAULT_BASE_URL="([^"]+)"$/m.exec(script)?.[1];
    expect(base).toBeDefined();
    expect(INSTALL_SCRIPT_URL).toBe(`${base}/latest/download/install.sh`);
  });
});
