/**
 * The systemd unit of the agent (borgctl-agent.service), printed and installed by
 * `borgctl agent service print|install`. The agent runs as root because it reads every
 * file it backs up, and borg may write a local repository anywhere; so it gets no
 * read-only file system and no capability limits, only the restrictions that cost a
 * backup nothing. Backups run at low CPU and idle I/O priority.
 */
import { BINARY_PATH } from "./install-paths.ts";
import { INSTALL_SECTION, renderUnit, unitPath, unitSection } from "./systemd.ts";

export interface AgentUnitOptions {
  /** Default /usr/local/bin/borgctl. */
  binary?: string;
  /** The agent's config (written by `agent register`), e.g. /etc/borgctl/agent.toml. */
  config: string;
}

export function renderAgentUnit(options: AgentUnitOptions): string {
  const binary = unitPath("binary", options.binary ?? BINARY_PATH);
  const config = unitPath("config", options.config);
  return renderUnit(
    [
      "borgctl agent: runs this machine's backup jobs for the hub.",
      "Written by `borgctl agent service install`; re-running it rewrites this file.",
    ],
    [
      unitSection("borgctl agent: backup jobs for the borgctl hub"),
      {
        name: "Service",
        lines: [
          "Type=simple",
          `ExecStart=${binary} agent run --config ${config}`,
          "Restart=on-failure",
          "RestartSec=30",
          "# Exit 3: the hub revoked or disabled this agent; restarting cannot help.",
          "RestartPreventExitStatus=3",
          "# On stop only the agent gets SIGTERM: it takes no new job and gives a running borg",
          "# 30 s to stop cleanly (a checkpoint, its lock released); whatever is left is killed.",
          "KillMode=mixed",
          "TimeoutStopSec=60",
          "# Backups yield to everything else on this machine.",
          "Nice=10",
          "CPUSchedulingPolicy=batch",
          "IOSchedulingClass=idle",
          "# Runs as root and reads (and may restore) any file: no ProtectSystem=, ProtectHome=,",
          "# PrivateTmp= or capability limits, which would hide or block the data to back up.",
          "NoNewPrivileges=yes",
          "ProtectKernelTunables=yes",
          "ProtectKernelModules=yes",
          "ProtectKernelLogs=yes",
          "ProtectControlGroups=yes",
          "ProtectHostname=yes",
          "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
          "RestrictNamespaces=yes",
          "RestrictRealtime=yes",
          "RestrictSUIDSGID=yes",
          "LockPersonality=yes",
          "SystemCallArchitectures=native",
          "# Not MemoryDenyWriteExecute=yes: Bun's JavaScript JIT needs writable+executable memory.",
        ],
      },
      INSTALL_SECTION,
    ],
  );
}
