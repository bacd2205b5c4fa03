/**
 * The launchd job of the agent on macOS (/Library/LaunchDaemons/<label>.plist), printed
 * and installed by `borgctl agent service print|install`. A system daemon (root), started
 * at boot, restarted when it fails (not when it stopped cleanly), at background priority
 * for CPU and I/O, with Homebrew's directories on PATH so it finds borg.
 */
import { AppError } from "../errors.ts";
import { AGENT_LAUNCHD_LABEL, BINARY_PATH, DARWIN_SERVICE_PATH } from "./install-paths.ts";

export interface AgentPlistOptions {
  /** Default /usr/local/bin/borgctl. */
  binary?: string;
  /** The agent's config, e.g. /Library/Application Support/borgctl/agent.toml. */
  config: string;
  /** Default io.github.borgctl.agent. */
  label?: string;
  /** stdout and stderr of the agent; default /Library/Logs/borgctl-agent.log. */
  logFile?: string;
}

type PlistValue = string | number | boolean | readonly PlistValue[] | { [key: string]: PlistValue };

/** XML 1.0 cannot carry most control characters at all, escaped or not. */
function xmlText(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is refused.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(value)) {
    throw new AppError("validation_failed", "a launchd plist value has a control character");
  }
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function renderValue(value: PlistValue, indent: string): string[] {
  if (typeof value === "string") return [`${indent}<string>${xmlText(value)}</string>`];
  if (typeof value === "boolean") return [`${indent}<${value}/>`];
  if (typeof value === "number") return [`${indent}<integer>${Math.trunc(value)}</integer>`];
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return [
      `${indent}<array>`,
      ...value.flatMap((v) => renderValue(v, inner)),
      `${indent}</array>`,
    ];
  }
  return [
    `${indent}<dict>`,
    ...Object.entries(value).flatMap(([key, v]) => [
      `${inner}<key>${xmlText(key)}</key>`,
      ...renderValue(v, inner),
    ]),
    `${indent}</dict>`,
  ];
}

export function renderAgentPlist(options: AgentPlistOptions): string {
  const label = options.label ?? AGENT_LAUNCHD_LABEL;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(label)) {
    throw new AppError("validation_failed", `launchd label "${label}" must be reverse-DNS`);
  }
  const absolute = (what: string, path: string) => {
    if (!path.startsWith("/")) {
      throw new AppError("validation_failed", `${what} must be an absolute path, got "${path}"`);
    }
    return path;
  };
  const logFile = absolute("log file", options.logFile ?? "/Library/Logs/borgctl-agent.log");
  const job: Record<string, PlistValue> = {
    Label: label,
    ProgramArguments: [
      absolute("binary", options.binary ?? BINARY_PATH),
      "agent",
      "run",
      "--config",
      absolute("config", options.config),
    ],
    RunAtLoad: true,
    // Restarted after a crash or a failure, not after a clean stop (SIGTERM, exit 0).
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 30,
    // launchd's default of 20 s before SIGKILL is shorter than the agent's 30 s job grace.
    ExitTimeOut: 60,
    // Backups yield to everything else on this Mac.
    ProcessType: "Background",
    Nice: 10,
    LowPriorityIO: true,
    LowPriorityBackgroundIO: true,
    EnvironmentVariables: { PATH: DARWIN_SERVICE_PATH },
    StandardOutPath: logFile,
    StandardErrorPath: logFile,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    "<!-- borgctl agent. Written by `borgctl agent service install`; re-running it rewrites this file. -->",
    '<plist version="1.0">',
    ...renderValue(job, ""),
    "</plist>",
    "",
  ].join("\n");
}
