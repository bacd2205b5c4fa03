/**
 * Version and commit of this build. build.ts replaces BORGCTL_VERSION and BORGCTL_COMMIT
 * with literals (bun build --define); running from source falls back to package.json.
 */
import pkg from "../../package.json" with { type: "json" };

declare const BORGCTL_VERSION: string | undefined;
declare const BORGCTL_COMMIT: string | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
  runtime: string;
}

export function buildInfo(): BuildInfo {
  return {
    version: typeof BORGCTL_VERSION === "string" ? BORGCTL_VERSION : pkg.version,
    commit: typeof BORGCTL_COMMIT === "string" ? BORGCTL_COMMIT : "dev",
    runtime: `bun ${Bun.version}`,
  };
}

/** One line, as printed by `borgctl --version`: "0.1.0 (abc1234)". */
export function versionLine(info: BuildInfo = buildInfo()): string {
  return `${info.version} (${info.commit})`;
}
