/**
 * The systemd unit of the hub (borgctl-server.service), printed by
 * `borgctl server service print` and installed by install.sh. The hub runs as the
 * `borgctl` user and may write only its data dir (database and secret key).
 */
import { BINARY_PATH, SERVER_DEFAULTS } from "./install-paths.ts";
import {
  daemonHardening,
  INSTALL_SECTION,
  renderUnit,
  unitPath,
  unitSection,
  unitUser,
} from "./systemd.ts";

/**
 * The hub's open-file limit: two sockets per agent for the largest fleet we claim
 * (README "Benchmarks"), plus the database, with room to spare.
 */
export const SERVER_OPEN_FILES = 262_144;

export interface ServerUnitOptions {
  /** Default /usr/local/bin/borgctl. */
  binary?: string;
  /** Default borgctl; the group has the same name. */
  user?: string;
  /** Default /var/lib/borgctl/server. */
  dataDir?: string;
  /** BORGCTL_ADDR and the first admin's password; default /etc/borgctl/server.env. */
  envFile?: string;
}

export function renderServerUnit(options: ServerUnitOptions = {}): string {
  const binary = unitPath("binary", options.binary ?? BINARY_PATH);
  const user = unitUser("user", options.user ?? SERVER_DEFAULTS.user);
  const dataDir = unitPath("data dir", options.dataDir ?? SERVER_DEFAULTS.dataDir);
  const envFile = unitPath("environment file", options.envFile ?? SERVER_DEFAULTS.envFile);
  return renderUnit(
    [
      "borgctl server: the hub (API, web UI, machines, repositories, job queue).",
      "Written by install.sh from `borgctl server service print`; re-running the installer rewrites it.",
    ],
    [
      unitSection("borgctl server: the backup hub"),
      {
        name: "Service",
        lines: [
          "Type=simple",
          `User=${user}`,
          `Group=${user}`,
          "# BORGCTL_ADDR and other settings; the data dir is a flag below because the",
          "# sandbox must know it.",
          `EnvironmentFile=${envFile}`,
          `ExecStart=${binary} server --data-dir ${dataDir}`,
          // Each agent holds a connection (its long poll, and a heartbeat beside it at
          // times); systemd's default soft limit of 1,024 would cap a hub at a few hundred.
          "# Open files: every connected agent holds one or two sockets.",
          `LimitNOFILE=${SERVER_OPEN_FILES}`,
          "Restart=on-failure",
          "RestartSec=5",
          ...daemonHardening([dataDir]),
        ],
      },
      INSTALL_SECTION,
    ],
  );
}
