/**
 * What a database URL names, said without its password, and the one error a hub gives
 * when PostgreSQL cannot be reached at start: host, port and the driver's reason.
 */

export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** host, port, database and user of a postgres:// URL (the config schema checked it). */
export function databaseTarget(url: string): DatabaseTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "localhost",
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres",
    user: decodeURIComponent(parsed.username) || "postgres",
  };
}

/** The URL as it may be shown: the password replaced by "***". */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(a database URL that does not parse)";
  }
}

export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";
  constructor(
    readonly target: DatabaseTarget,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot connect to PostgreSQL at ${target.host}:${target.port} (database "${target.database}", user "${target.user}"): ${reason}`,
      options,
    );
  }
}

/** The driver's reason, one line, with the URL's password cut out should it ever appear. */
export function driverReason(error: unknown, url: string): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = "code" in e && typeof e.code === "string" ? e.code : undefined;
  let reason = `${e.message.split("\n")[0]}${code ? ` (${code})` : ""}`;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== "") reason = reason.split(password).join("***");
  } catch {}
  return reason;
}

/** Connection-level failures (not an SQL error answered by the server). */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = "code" in e ? e.code : undefined;
    if (typeof code === "string") {
      if (code === "ERR_POSTGRES_SERVER_ERROR") {
        // SQLSTATE class 08 (connection exception), 57P01-03 (shutdown, cannot connect now),
        // 53300 (too many connections), 3D000 (no such database), 28xxx (auth).
        const errno = "errno" in e ? String(e.errno) : "";
        return /^(08|57P0|53300|3D000|28)/.test(errno);
      }
      if (/^ERR_POSTGRES_(CONNECTION_|.*TIMEOUT|TLS|.*AUTH|.*SASL)/.test(code)) return true;
      if (
        /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(
          code,
        )
      )
        return true;
    }
  }
  return false;
}
