/**
 * Finds the borg binaries on this machine: `borg` and `borg2` on PATH and in the usual
 * install places (Debian, /usr/local, Homebrew). Each is asked its version; duplicates
 * (symlinks to one file) are reported once.
 */
import { realpathSync } from "node:fs";
import { type DetectedBorg, detectBorg } from "../borg/run.ts";

const NAMES = ["borg", "borg2"];
const DIRS = ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"];

export async function findBorgBinaries(searchPath: string | undefined): Promise<DetectedBorg[]> {
  const candidates: string[] = [];
  for (const name of NAMES) {
    const onPath = Bun.which(name, { PATH: searchPath ?? "" });
    if (onPath) candidates.push(onPath);
    for (const dir of DIRS) candidates.push(`${dir}/${name}`);
  }
  const seen = new Set<string>();
  const found: DetectedBorg[] = [];
  for (const path of candidates) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const detected = await detectBorg(path);
    if (detected) found.push(detected);
  }
  return found;
}
