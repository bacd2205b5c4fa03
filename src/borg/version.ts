/**
 * Borg's version: parsing the output of `borg --version` and ordering versions.
 *
 * `--version` prints "<program name> <version>", where the program name is whatever the
 * binary was called: "borg 1.2.4" (Debian borgbackup), "borg2 2.0.0b5" (Debian
 * borgbackup2), "borg-linux64 1.4.0" (a standalone binary). Only major versions 1 and 2
 * are understood; anything else is "not a borg we know" (undefined), not a guess.
 */

export interface BorgVersion {
  major: 1 | 2;
  minor: number;
  patch: number;
  /** Pre-release / local part right after the patch number, e.g. "b5", "rc1", ".dev3+g1a2b". */
  pre?: string;
  /** The version as printed, e.g. "2.0.0b5". */
  raw: string;
}

const VERSION_LINE = /^\s*(\S*borg\S*)\s+v?((\d+)\.(\d+)\.(\d+)(\S*))\s*$/i;

export function parseBorgVersion(stdout: string): BorgVersion | undefined {
  for (const line of stdout.split(/\r?\n/)) {
    const match = VERSION_LINE.exec(line);
    if (!match) continue;
    const [, , raw, major, minor, patch, rest] = match;
    if (major !== "1" && major !== "2") return undefined;
    // "1.4.0-rc1" style: the dash is a separator, not part of the pre-release name.
    const pre = rest?.startsWith("-") ? rest.slice(1) : (rest ?? "");
    const version: BorgVersion = {
      major: major === "1" ? 1 : 2,
      minor: Number(minor),
      patch: Number(patch),
      raw: raw ?? "",
    };
    if (pre !== "") version.pre = pre;
    return version;
  }
  return undefined;
}

/**
 * The beta number of a 2.0.0 beta ("2.0.0b5" → 5), 0 for alphas and dev builds before
 * the first beta, and undefined for anything that is not a 2.0.0 pre-release (1.x,
 * 2.0.0 itself, its release candidates, later 2.x).
 */
export function borg2BetaNumber(version: BorgVersion): number | undefined {
  if (version.major !== 2 || version.minor !== 0 || version.patch !== 0) return undefined;
  const pre = version.pre;
  if (pre === undefined) return undefined;
  const beta = /^b(\d+)/.exec(pre);
  if (beta) return Number(beta[1]);
  if (/^(a\d*|\.dev)/.test(pre)) return 0;
  return undefined; // rc1, rc2…: after every beta
}

/** True when `version` is at least major.minor (pre-releases of major.minor.0 count as major.minor). */
export function isAtLeast(version: BorgVersion, major: number, minor: number): boolean {
  if (version.major !== major) return version.major > major;
  return version.minor >= minor;
}
