/**
 * The commands "Add machine" shows for a fresh enrollment token: the one-line install
 * (install.sh from the latest release, which installs borgctl and registers the agent as
 * a service) and the manual register for a machine that already has borgctl. Pure.
 */

/** install.sh's own default (its DEFAULT_BASE_URL), the latest release's download. */
export const INSTALL_SCRIPT_URL =
  "https://github.com/borgctl/borgctl/releases/latest/download/install.sh";

export function installCommand(origin: string, token: string): string {
  return `curl -fsSL ${INSTALL_SCRIPT_URL} | sudo bash -s -- agent --server ${origin} --token ${token}`;
}

export function registerCommand(origin: string, token: string): string {
  return `borgctl agent register --server ${origin} --token ${token}`;
}
