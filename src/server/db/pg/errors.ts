/** PostgreSQL's SQLSTATE of a driver error, looked for through drizzle's wrapping (cause). */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const errno = "errno" in e ? e.errno : undefined;
    if (typeof errno === "string" && /^[0-9A-Z]{5}$/.test(errno)) return errno;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";
export const FOREIGN_KEY_VIOLATION = "23503";
