/**
 * The systemd unit of `borgctl box` (borgctl-box.service), printed by
 * `borgctl box service print` and installed by install.sh. The box runs as the `borg`
 * user and may write only the repo root, the SSH directory that holds authorized_keys,
 * and borg's own cache and config under the user's home (borg keeps a security dir per
 * repo there when the box runs check, prune, compact or list).
 */
import { dirname } from "node:path";
import { BINARY_PATH, BOX_DEFAULTS } from "./install-paths.ts";
import {
  daemonHardening,
  INSTALL_SECTION,
  renderUnit,
  unitPath,
  unitSection,
  unitUser,
} from "./systemd.ts";

export interface BoxUnitOptions {
  /** Default /usr/local/bin/borgctl. */
  binary?: string;
  /** Default borg; the group has the same name (install.sh creates both). */
  user?: string;
  /** The user's home; default /var/lib/borg. */
  home?: string;
  /** Default <home>/repos. */
  repoRoot?: string;
  /** Default <home>/.ssh/authorized_keys. */
  authKeys?: string;
  /** BORGBOX_ADDR and BORGBOX_TOKEN=@…; default /etc/borgctl/box.env. */
  envFile?: string;
}

export function renderBoxUnit(options: BoxUnitOptions = {}): string {
  const binary = unitPath("binary", options.binary ?? BINARY_PATH);
  const user = unitUser("user", options.user ?? BOX_DEFAULTS.user);
  const home = unitPath("home", options.home ?? BOX_DEFAULTS.home);
  const repoRoot = unitPath("repo root", options.repoRoot ?? `${home}/repos`);
  const authKeys = unitPath("authorized_keys", options.authKeys ?? `${home}/.ssh/authorized_keys`);
  const envFile = unitPath("environment file", options.envFile ?? BOX_DEFAULTS.envFile);
  return renderUnit(
    [
      "borgctl box: the borgbox-compatible storage daemon.",
      "Written by install.sh from `borgctl box service print`; re-running the installer rewrites it.",
    ],
    [
      unitSection("borgctl box: borgbox-compatible storage daemon"),
      {
        name: "Service",
        lines: [
          "Type=simple",
          `User=${user}`,
          `Group=${user}`,
          "# BORGBOX_ADDR and BORGBOX_TOKEN=@<token file>; the paths are flags below because",
          "# the sandbox must know them.",
          `EnvironmentFile=${envFile}`,
          `ExecStart=${binary} box --repo-root ${repoRoot} --auth-keys ${authKeys}`,
          "Restart=on-failure",
          "RestartSec=5",
          ...daemonHardening(
            [repoRoot, dirname(authKeys)],
            [`${home}/.config/borg`, `${home}/.cache/borg`],
          ),
        ],
      },
      INSTALL_SECTION,
    ],
  );
}
