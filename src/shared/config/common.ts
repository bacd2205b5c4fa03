/** Schema pieces and platform paths shared by the role configs. */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export const LogLevelSchema = z.enum(LOG_LEVELS);

/** A path; "~/" is expanded against `home`, relative paths against the working directory. */
export const pathSchema = (home: string) =>
  z
    .string()
    .min(1, "must not be empty")
    .refine((p) => !p.includes("\0"), "must not contain NUL")
    .transform((p) => (p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p))
    .transform((p) => (isAbsolute(p) ? p : resolve(p)));

/** Where a user-level hub keeps its data when not told: XDG on Linux, Application Support on macOS. */
export function defaultDataDir(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === "darwin") return join(home, "Library", "Application Support", "borgctl");
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, ".local", "share"), "borgctl");
}
