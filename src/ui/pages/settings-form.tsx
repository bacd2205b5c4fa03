/** @jsxImportSource hono/jsx/dom */
/**
 * What the settings sections' forms share: busy/error state around an action, role
 * options, and reading a trimmed field from a submitted form.
 */
import { useState } from "hono/jsx/dom";
import type { Role } from "../../shared/protocol/api.ts";
import { errorMessage } from "../api.ts";

/** Runs a form's action with busy/error state; returns whether it succeeded. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function roleOptions(roles: Role[], selected: Role | undefined) {
  return roles.map((r) => (
    <option value={r} selected={r === selected}>
      {r}
    </option>
  ));
}

export function formText(e: Event, field: string): string {
  return String(new FormData(e.currentTarget as HTMLFormElement).get(field) ?? "").trim();
}
