/**
 * What ssh says (on borg's stderr, as plain lines) when the server's host key is not the
 * one known_hosts pins. With StrictHostKeyChecking=yes OpenSSH prints one of these and
 * then "Host key verification failed."; borg itself only reports that the connection
 * closed, so this is the one place that tells the two apart. Checked with OpenSSH 9.2:
 *   a changed key of a known type: "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@"
 *   no pinned key of the type the server offers: "No ED25519 host key is known for …"
 */
import { runProcess } from "../shared/process/spawn.ts";

const HOST_KEY_FAILURE = [
  /Host key verification failed\./,
  /REMOTE HOST IDENTIFICATION HAS CHANGED/,
  /host key is known for .* you have requested strict checking/,
];

export function isSshHostKeyMismatch(lines: readonly string[]): boolean {
  return lines.some((line) => HOST_KEY_FAILURE.some((pattern) => pattern.test(line)));
}

/**
 * borg often reports only "Connection closed by remote host" when ssh refused the host key:
 * it stops reading ssh's stderr as soon as the connection ends, so ssh's own words may
 * never arrive. This asks the server for its host keys (`ssh-keyscan`, which sends no
 * credentials and needs no known_hosts) and says whether none of them is pinned.
 * undefined: the server could not be asked (unreachable, no keyscan), so nothing is claimed.
 */
export async function pinnedKeysMissing(
  host: string,
  port: number | undefined,
  pinned: readonly { type: string; base64: string }[],
  timeoutSeconds = 5,
): Promise<boolean | undefined> {
  let result: Awaited<ReturnType<typeof runProcess>>;
  try {
    result = await runProcess({
      argv: ["ssh-keyscan", "-T", String(timeoutSeconds), "-p", String(port ?? 22), "--", host],
      captureStdout: { maxBytes: 256 * 1024 },
      stderrTailLines: 5,
      signal: AbortSignal.timeout((timeoutSeconds + 5) * 1000),
      grace: { interruptMs: 500, terminateMs: 500 },
    });
  } catch {
    return undefined;
  }
  const offered = result.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 3 && !parts[0]?.startsWith("#"))
    .map((parts) => `${parts[1]} ${parts[2]}`);
  if (offered.length === 0) return undefined;
  const wanted = new Set(pinned.map((k) => `${k.type} ${k.base64}`));
  return !offered.some((key) => wanted.has(key));
}
