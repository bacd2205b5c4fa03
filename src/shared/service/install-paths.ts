/**
 * Where an installed borgctl lives: the binary, the config directory, the unit and plist
 * names, and each role's default user and data paths. install.sh uses the same values
 * (it passes them to `borgctl … service print|install` or relies on these defaults), so a
 * change here is a change to the installer's layout.
 */

export const BINARY_PATH = "/usr/local/bin/borgctl";
export const CONFIG_DIR = "/etc/borgctl";
export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";
export const LAUNCH_DAEMONS_DIR = "/Library/LaunchDaemons";

export const BOX_UNIT = "borgctl-box.service";
export const SERVER_UNIT = "borgctl-server.service";
export const AGENT_UNIT = "borgctl-agent.service";
/** The launchd job label; the plist is `<LAUNCH_DAEMONS_DIR>/<label>.plist`. */
export const AGENT_LAUNCHD_LABEL = "io.github.borgctl.agent";

/** The box runs as `borg`, as borgbox does: clients' repo URLs say ssh://borg@host/… */
export const BOX_DEFAULTS = {
  user: "borg",
  home: "/var/lib/borg",
  envFile: `${CONFIG_DIR}/box.env`,
} as const;

/**
 * The hub runs as `borgctl`. Its data sits in a directory of its own under /var/lib/borgctl
 * because the agent's state (/var/lib/borgctl/agent, root's) may live beside it on the same
 * machine: the hub user must not own the directory that holds root's agent key.
 */
export const SERVER_DEFAULTS = {
  user: "borgctl",
  dataDir: "/var/lib/borgctl/server",
  envFile: `${CONFIG_DIR}/server.env`,
} as const;

/** launchd's own PATH is /usr/bin:/bin:/usr/sbin:/sbin; Homebrew's borg lives in these. */
export const DARWIN_SERVICE_PATH = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
