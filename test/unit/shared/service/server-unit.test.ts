import { describe, expect, test } from "bun:test";
import { AppError } from "../../../../src/shared/errors.ts";
import { renderServerUnit } from "../../../../src/shared/service/server-unit.ts";

const settings = (text: string) => text.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));

describe("server (hub) systemd unit", () => {
  test("defaults: runs `borgctl server` as borgctl, writable only in its data dir", () => {
    const lines = settings(renderServerUnit());
    for (const line of [
      "User=borgctl",
      "Group=borgctl",
      "EnvironmentFile=/etc/borgctl/server.env",
      "ExecStart=/usr/local/bin/borgctl server --data-dir /var/lib/borgctl/server",
      "ReadWritePaths=/var/lib/borgctl/server",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "PrivateTmp=yes",
      "ProtectKernelTunables=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service",
      "WantedBy=multi-user.target",
      "LimitNOFILE=262144",
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.some((l) => l.startsWith("MemoryDenyWriteExecute"))).toBe(false);
    const keys = lines.map((l) => l.slice(0, l.indexOf("=")));
    expect(keys.length).toBe(new Set(keys).size);
  });

  test("a custom data dir is both the flag and the only writable path", () => {
    const lines = settings(renderServerUnit({ dataDir: "/srv/hub", envFile: "/etc/hub.env" }));
    expect(lines).toContain("ExecStart=/usr/local/bin/borgctl server --data-dir /srv/hub");
    expect(lines).toContain("ReadWritePaths=/srv/hub");
    expect(lines).toContain("EnvironmentFile=/etc/hub.env");
  });

  test("refuses a data dir a unit would misread", () => {
    expect(() => renderServerUnit({ dataDir: "/srv/my hub" })).toThrow(AppError);
    expect(() => renderServerUnit({ dataDir: "./hub" })).toThrow(AppError);
  });
});
