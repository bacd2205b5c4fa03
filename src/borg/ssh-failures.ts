/**
 * What ssh says (on borg's stderr, as plain lines) when the server's host key is not the
 * one known_hosts pins. With StrictHostKeyChecking=yes OpenSSH prints one of these and
 * then "Host key verification failed."; borg itself only reports that the connection
 * closed, so this is the one place that tells the two apart. Checked with OpenSSH 9.2:
 *   a changed key of a known type: "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@"
 *   no pinned key of the type the server offers: "No ED25519 host key is known for …"
 */
const HOST_KEY_FAILURE = [
  /Host key verification failed\./,
  /REMOTE HOST IDENTIFICATION HAS CHANGED/,
  /host key is known for .* you have requested strict checking/,
];

export function isSshHostKeyMismatch(lines: readonly string[]): boolean {
  return lines.some((line) => HOST_KEY_FAILURE.some((pattern) => pattern.test(line)));
}
