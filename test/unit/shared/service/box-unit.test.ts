import { describe, expect, test } from "bun:test";
import { AppError } from "../../../../src/shared/errors.ts";
import { renderBoxUnit } from "../../../../src/shared/service/box-unit.ts";

const settings = (text: string) => text.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));

describe("box systemd unit", () => {
  test("defaults: runs `borgctl box` as borg with the env file and the repo paths as flags", () => {
    const text = renderBoxUnit();
    const lines = settings(text);
    for (const line of [
      "User=borg",
      "Group=borg",
      "EnvironmentFile=/etc/borgctl/box.env",
      "ExecStart=/usr/local/bin/borgctl box --repo-root /var/lib/borg/repos --auth-keys /var/lib/borg/.ssh/authorized_keys",
      "Restart=on-failure",
      "ReadWritePaths=/var/lib/borg/repos /var/lib/borg/.ssh -/var/lib/borg/.config/borg -/var/lib/borg/.cache/borg",
      "ProtectHome=yes",
      "WantedBy=multi-user.target",
    ]) {
      expect(lines).toContain(line);
    }
    expect(text).toContain("[Unit]\n");
    expect(text).toContain("\n[Service]\n");
    expect(text).toContain("\n[Install]\n");
  });

  test("is hardened: strict file system, no privileges, kernel protected, only IP and Unix sockets", () => {
    const lines = settings(renderBoxUnit());
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "PrivateTmp=yes",
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectKernelLogs=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service",
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.some((l) => l.startsWith("MemoryDenyWriteExecute"))).toBe(false);
    // Each setting appears once: a duplicate would silently override or extend the first.
    const keys = lines.map((l) => l.slice(0, l.indexOf("=")));
    expect(keys.length).toBe(new Set(keys).size);
  });

  test("a home under /home: every path follows it, and ProtectHome lets ReadWritePaths through", () => {
    const lines = settings(
      renderBoxUnit({ home: "/home/backup", user: "backup", binary: "/opt/borgctl" }),
    );
    expect(lines).toContain("User=backup");
    expect(lines).toContain(
      "ExecStart=/opt/borgctl box --repo-root /home/backup/repos --auth-keys /home/backup/.ssh/authorized_keys",
    );
    expect(lines).toContain(
      "ReadWritePaths=/home/backup/repos /home/backup/.ssh -/home/backup/.config/borg -/home/backup/.cache/borg",
    );
    expect(lines).toContain("ProtectHome=read-only");
  });

  test("a separate repo root and authorized_keys file are what the sandbox opens", () => {
    const lines = settings(renderBoxUnit({ repoRoot: "/srv/repos", authKeys: "/srv/ssh/keys" }));
    expect(lines.find((l) => l.startsWith("ReadWritePaths="))).toStartWith(
      "ReadWritePaths=/srv/repos /srv/ssh ",
    );
    expect(lines.find((l) => l.startsWith("ExecStart="))).toBe(
      "ExecStart=/usr/local/bin/borgctl box --repo-root /srv/repos --auth-keys /srv/ssh/keys",
    );
  });

  test("refuses paths and users a unit would misread", () => {
    expect(() => renderBoxUnit({ home: "/var/lib/my borg" })).toThrow(AppError);
    expect(() => renderBoxUnit({ home: "var/lib/borg" })).toThrow(AppError);
    expect(() => renderBoxUnit({ user: "root user" })).toThrow(AppError);
    expect(() => renderBoxUnit({ envFile: "/etc/%n.env" })).toThrow(AppError);
  });
});
