/**
 * The commands "Add machine" shows for a fresh enrollment token: the one-line install
 * (install.sh from the latest release, which installs borgctl and registers the agent as
 * a service) and the manual register for a machine that already has borgctl. Both carry
 * the typed name (shell-quoted) and the hub's address: its public URL when the hub has
 * one, else the browser's. Pure.
 */

/** install.sh's own default (its DEFAULT_BASE_URL), the latest release's download. */
export const INSTALL_SCRIPT_URL =
  "https://github.com/borgctl/borgctl/releases/latest/download/install.sh";

/** A word the shell reads back unchanged: plain words as they are, the rest in single quotes. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9._@%+=:,/-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function agentArgs(hub: string, token: string, name: string): string {
  return `--server ${shellQuote(hub)} --token ${shellQuote(token)} --name ${shellQuote(name)}`;
}

export function installCommand(hub: string, token: string, name: string): string {
  return `curl -fsSL ${INSTALL_SCRIPT_URL} | sudo bash -s -- agent ${agentArgs(hub, token, name)}`;
}

export function registerCommand(hub: string, token: string, name: string): string {
  return `borgctl agent register ${agentArgs(hub, token, name)}`;
}

/** The address agents should use: the hub's public URL when set, else where the browser is. */
export function hubAddress(publicUrl: string | null | undefined, browserOrigin: string): string {
  return (publicUrl ?? "").replace(/\/+$/, "") || browserOrigin;
}

/** True when a URL names this machine only (localhost, 127.0.0.0/8, ::1): no other machine reaches it. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]" ||
    host === "::1"
  );
}
