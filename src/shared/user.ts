/**
 * The name of the user this process runs as. Bun's os.userInfo() takes the name from
 * $USER and answers "unknown" when it is unset (as under systemd or `env -i`), so the
 * passwd database is read first; macOS keeps most users outside /etc/passwd, hence the
 * fallback.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

export function userNameFromPasswd(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 3 && Number(fields[2]) === uid && fields[0]) return fields[0];
  }
  return undefined;
}

export function currentUserName(): string {
  const uid = process.getuid?.();
  if (uid !== undefined) {
    try {
      const name = userNameFromPasswd(readFileSync("/etc/passwd", "utf8"), uid);
      if (name) return name;
    } catch {
      // No readable /etc/passwd: fall through.
    }
  }
  return userInfo().username;
}
