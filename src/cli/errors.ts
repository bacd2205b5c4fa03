/**
 * Errors a person fixes, not a developer: the message says what to do, no stack is printed.
 * Exit codes: 1 for a failure while running, 2 for bad usage (unknown flag, bad value, bad
 * config), 3 for an agent the hub refuses (revoked or disabled).
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** The hub revoked or disabled this agent: restarting it cannot help (the unit says so). */
export const EXIT_REVOKED = 3;

export class UserError extends Error {
  override readonly name = "UserError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** For commands whose issue has not landed yet: say so plainly instead of pretending. */
export function notBuiltYet(command: string): never {
  throw new UserError(`"borgctl ${command}" is not built yet in this version of borgctl.`);
}
