/**
 * What every borgctl systemd unit shares: value checks and escaping for unit files, the
 * sandbox lines of the daemons that run as their own system user (box, hub), and the
 * assembly of sections into text. The per-role renderers (box-unit.ts, server-unit.ts,
 * agent-unit.ts) decide which lines a role gets; this file only knows the syntax.
 */
import { AppError } from "../errors.ts";

/** A unit file section: its name and its lines (comments start with "#"). */
export interface UnitSection {
  name: "Unit" | "Service" | "Install";
  lines: readonly string[];
}

/** Joins sections into unit file text, one blank line between sections, ending in "\n". */
export function renderUnit(header: readonly string[], sections: readonly UnitSection[]): string {
  const blocks = [
    header.map((line) => `# ${line}`).join("\n"),
    ...sections.map((s) => [`[${s.name}]`, ...s.lines].join("\n")),
  ];
  return `${blocks.join("\n\n")}\n`;
}

/**
 * An absolute path that can stand unquoted in any unit setting. Paths go into settings
 * that split on whitespace (ReadWritePaths=) and into ExecStart=, where "%" starts a
 * specifier and "$" a variable; rather than escape each differently, such paths are
 * refused (the installer's defaults never need them).
 */
export function unitPath(what: string, path: string): string {
  if (!path.startsWith("/")) {
    throw new AppError("validation_failed", `${what} must be an absolute path, got "${path}"`);
  }
  if (!/^[A-Za-z0-9_./@+,:=-]+$/.test(path) || path.split("/").includes("..")) {
    throw new AppError(
      "validation_failed",
      `${what} "${path}" has characters a systemd unit would read specially (space, quote, %, $, ..); use a plain path`,
    );
  }
  return path;
}

/** A system user or group name as useradd accepts it. */
export function unitUser(what: string, name: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
    throw new AppError("validation_failed", `${what} "${name}" is not a valid system user name`);
  }
  return name;
}

/**
 * ProtectHome= for a daemon whose writable paths may sit under /home: "yes" makes /home
 * inaccessible, and ReadWritePaths= cannot reopen an inaccessible tree, so a home under
 * /home, /root or /run/user gets "read-only" (which ReadWritePaths= can punch through).
 */
export function protectHomeFor(paths: readonly string[]): string {
  const underHome = paths.some((p) => /^\/(home|root|run\/user)(\/|$)/.test(p));
  return `ProtectHome=${underHome ? "read-only" : "yes"}`;
}

/**
 * The sandbox of a network daemon that runs as an unprivileged system user and writes only
 * to the paths it is given (box, hub). Every line is a restriction the daemon never needs
 * to lift: no privileges to gain or keep, the file system read-only but for the given paths,
 * no devices, no kernel knobs, only IP and Unix sockets, only ordinary system calls.
 */
export function daemonHardening(
  writable: readonly string[],
  writableIfPresent: readonly string[] = [],
): string[] {
  // A "-" prefix lets the unit start when that path does not exist (it then stays read-only).
  const paths = [...writable, ...writableIfPresent.map((p) => `-${p}`)];
  return [
    "# Sandbox: read-only system, writable only where this daemon keeps its data.",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths=${paths.join(" ")}`,
    protectHomeFor([...writable, ...writableIfPresent]),
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "PrivateMounts=yes",
    // Other users' processes are hidden; the box still sees the `borg serve` sessions,
    // which run as its own user.
    "ProtectProc=invisible",
    "RemoveIPC=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    // A filtered call fails with EPERM instead of killing the daemon outright.
    "SystemCallErrorNumber=EPERM",
    "UMask=0077",
    "# Not MemoryDenyWriteExecute=yes: it forbids writable+executable memory, which",
    "# Bun's JavaScript JIT needs; with it the daemon crashes or runs without its JIT.",
  ];
}

/** [Install] for a service started at boot. */
export const INSTALL_SECTION: UnitSection = {
  name: "Install",
  lines: ["WantedBy=multi-user.target"],
};

/** [Unit] for a daemon that serves or reaches the network. */
export function unitSection(description: string): UnitSection {
  return {
    name: "Unit",
    lines: [
      `Description=${description}`,
      "After=network-online.target",
      "Wants=network-online.target",
    ],
  };
}
