import { describe, expect, test } from "bun:test";
import { AppError } from "../../../../src/shared/errors.ts";
import {
  daemonHardening,
  protectHomeFor,
  renderUnit,
  unitPath,
  unitUser,
} from "../../../../src/shared/service/systemd.ts";

const settings = (lines: readonly string[]) => lines.filter((l) => !l.startsWith("#"));

describe("systemd unit building blocks", () => {
  test("renderUnit: header comments, sections separated by one blank line, final newline", () => {
    expect(
      renderUnit(
        ["one", "two"],
        [
          { name: "Unit", lines: ["Description=x"] },
          { name: "Install", lines: ["WantedBy=multi-user.target"] },
        ],
      ),
    ).toBe("# one\n# two\n\n[Unit]\nDescription=x\n\n[Install]\nWantedBy=multi-user.target\n");
  });

  test("unitPath accepts plain absolute paths and refuses what a unit would read specially", () => {
    expect(unitPath("home", "/var/lib/borg")).toBe("/var/lib/borg");
    expect(unitPath("home", "/srv/backup-1/repos_@x")).toBe("/srv/backup-1/repos_@x");
    for (const bad of ["relative/dir", "/a b", "/a%h", "/a$HOME", '/a"b', "/a/../etc", "/a\nb"]) {
      expect(() => unitPath("home", bad)).toThrow(AppError);
    }
  });

  test("unitUser accepts system user names only", () => {
    expect(unitUser("user", "borg")).toBe("borg");
    expect(unitUser("user", "_borg-2")).toBe("_borg-2");
    for (const bad of ["Borg", "0borg", "bo rg", "", "a".repeat(33)]) {
      expect(() => unitUser("user", bad)).toThrow(AppError);
    }
  });

  test("ProtectHome is read-only (so ReadWritePaths can reach in) only for homes under /home, /root, /run/user", () => {
    expect(protectHomeFor(["/var/lib/borg/repos"])).toBe("ProtectHome=yes");
    expect(protectHomeFor(["/var/lib/x", "/home/borg/repos"])).toBe("ProtectHome=read-only");
    expect(protectHomeFor(["/root/data"])).toBe("ProtectHome=read-only");
    expect(protectHomeFor(["/homestead/data"])).toBe("ProtectHome=yes");
  });

  test("daemon hardening: strict file system, writable paths (optional ones with '-'), no capabilities, no MemoryDenyWriteExecute", () => {
    const lines = daemonHardening(["/srv/a", "/srv/b"], ["/srv/c"]);
    const active = settings(lines);
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=/srv/a /srv/b -/srv/c",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectKernelLogs=yes",
      "ProtectControlGroups=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service",
    ]) {
      expect(active).toContain(line);
    }
    expect(active.some((l) => l.startsWith("MemoryDenyWriteExecute"))).toBe(false);
    // …and the reason is written down next to it.
    expect(lines.join("\n")).toMatch(
      /# Not MemoryDenyWriteExecute=yes: .*\n# Bun's JavaScript JIT/,
    );
  });
});
