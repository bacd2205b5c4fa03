/**
 * The one place a lost PostgreSQL connection becomes an answer: every method of the
 * PostgreSQL Store is wrapped so that a driver connection error (connect.ts
 * isConnectionError: refused, reset, shutting down, timed out) is rethrown as
 * AppError("unavailable"), which every app's onError renders as 503 `unavailable`.
 * Routes and services stay unaware of it, and an agent treats a 503 like a hub that is
 * down (retry with backoff, uploads kept in its outbox). SQL errors the server answers
 * (a constraint, a bad row) pass through unchanged: those are bugs or answers, not an
 * outage. The driver's own message is not sent (it names host and port); it stays on
 * the error as `cause`.
 */
import { AppError } from "../../../shared/errors.ts";
import type { Store } from "../store.ts";
import { isConnectionError } from "./connect.ts";

export const UNAVAILABLE_MESSAGE =
  "the hub cannot answer right now: the database is unreachable; try again shortly";

/** `error` as AppError("unavailable") when it is a connection failure, else unchanged. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof AppError || !isConnectionError(error)) return error;
  const unavailable = new AppError("unavailable", UNAVAILABLE_MESSAGE);
  // Kept for logs and debugging; toBody() never includes it.
  Object.defineProperty(unavailable, "cause", { value: error, enumerable: false });
  return unavailable;
}

type AsyncFn = (...args: unknown[]) => Promise<unknown>;

function guardFn<F extends AsyncFn>(fn: F): F {
  return (async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (error) {
      throw asUnavailable(error);
    }
  }) as F;
}

/** A copy of one query module with every method guarded (the modules use no `this`). */
function guardModule<T extends object>(module: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(module)) {
    guarded[name] = typeof value === "function" ? guardFn(value as AsyncFn) : value;
  }
  return guarded as T;
}

/** `store` with every query and `transaction` mapping connection errors to "unavailable". */
export function guardStore(store: Store): Store {
  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store)) {
    guarded[name] =
      typeof value === "function"
        ? guardFn(value as AsyncFn)
        : guardModule(value as Record<string, unknown>);
  }
  return guarded as unknown as Store;
}
