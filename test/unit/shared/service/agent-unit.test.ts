import { describe, expect, test } from "bun:test";
import { AppError } from "../../../../src/shared/errors.ts";
import { renderAgentUnit } from "../../../../src/shared/service/agent-unit.ts";

const settings = (text: string) => text.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));

describe("agent systemd unit", () => {
  test("runs `agent run --config` as root at low CPU and idle I/O priority", () => {
    const lines = settings(renderAgentUnit({ config: "/etc/borgctl/agent.toml" }));
    for (const line of [
      "ExecStart=/usr/local/bin/borgctl agent run --config /etc/borgctl/agent.toml",
      "Restart=on-failure",
      // A revoked agent exits 3 (cli/errors.ts EXIT_REVOKED): no restart loop.
      "RestartPreventExitStatus=3",
      "KillMode=mixed",
      "Nice=10",
      "IOSchedulingClass=idle",
      "CPUSchedulingPolicy=batch",
      "NoNewPrivileges=yes",
      "ProtectKernelTunables=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      "WantedBy=multi-user.target",
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.some((l) => l.startsWith("User="))).toBe(false);
  });

  test("the stop timeout outlasts the agent's 30 s grace for a running job", () => {
    const lines = settings(renderAgentUnit({ config: "/etc/borgctl/agent.toml" }));
    const timeout = Number(lines.find((l) => l.startsWith("TimeoutStopSec="))?.split("=")[1]);
    expect(timeout).toBeGreaterThan(30);
  });

  test("nothing that would hide or block the data it backs up, and no MemoryDenyWriteExecute", () => {
    const lines = settings(renderAgentUnit({ config: "/etc/borgctl/agent.toml" }));
    for (const key of [
      "ProtectSystem",
      "ProtectHome",
      "PrivateTmp",
      "ReadWritePaths",
      "CapabilityBoundingSet",
      "MemoryDenyWriteExecute",
    ]) {
      expect(lines.filter((l) => l.startsWith(`${key}=`))).toEqual([]);
    }
  });

  test("refuses a config path a unit would misread", () => {
    expect(() => renderAgentUnit({ config: "/etc/borg ctl/agent.toml" })).toThrow(AppError);
    expect(() => renderAgentUnit({ config: "agent.toml" })).toThrow(AppError);
  });
});
