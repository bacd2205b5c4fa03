/**
 * What spawnProcess (spawn.ts) settles about the program before it starts a child: the
 * program resolved the way the child's own PATH would, so one that can't start is named
 * in a ProcessStartError rather than a bare ENOENT. Nothing here starts a process or
 * reads the environment (spawn.ts builds the child's, from its allow-list).
 */
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";

/** The program could not be started at all (not found, not executable, bad cwd). */
export class ProcessStartError extends Error {
  override readonly name = "ProcessStartError";
  constructor(
    readonly program: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot start "${program}": ${reason}`, options);
  }
}

/**
 * Finds the executable the way the child's own PATH would, so a missing or
 * non-executable program gets a message naming it rather than a bare ENOENT.
 */
export function resolveProgram(name: string, searchPath: string, cwd: string | undefined): string {
  if (cwd !== undefined && !isDirectory(cwd)) {
    throw new ProcessStartError(name, `working directory ${JSON.stringify(cwd)} does not exist`);
  }
  if (!name.includes("/")) {
    const found = Bun.which(name, { PATH: searchPath, cwd });
    if (found === null) throw new ProcessStartError(name, "not found on PATH");
    return found;
  }
  const path = resolvePath(cwd ?? process.cwd(), name);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ProcessStartError(name, "no such file");
  }
  if (!isFile) throw new ProcessStartError(name, "not a regular file");
  try {
    accessSync(path, fsConstants.X_OK);
  } catch {
    throw new ProcessStartError(name, "not executable");
  }
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function describeSpawnError(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    if (code === "EACCES") return "permission denied";
    if (code === "ENOENT") return "no such file";
    if (code === "ENOEXEC") return "not an executable format";
    return cause.message;
  }
  return String(cause);
}
