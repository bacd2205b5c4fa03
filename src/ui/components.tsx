/** @jsxImportSource hono/jsx/dom */
/**
 * Small shared pieces of the UI: in-app links, status badges, error text, a button that
 * asks before a destructive action, a copyable command, and a data loader hook.
 */
import type { Child } from "hono/jsx";
import { useCallback, useEffect, useState } from "hono/jsx/dom";
import { errorMessage } from "./api.ts";
import { humanize, statusTone } from "./format.ts";
import { navigate } from "./routes.ts";

export function Link(props: { href: string; class?: string; children?: Child }) {
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(e: MouseEvent) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge tone-${statusTone(props.status)}`}>{humanize(props.status)}</span>;
}

export function ErrorText(props: { error: string | null | undefined }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

/**
 * A destructive action: the first press asks ("Revoke laptop? …"), the second does it.
 * Errors from the action are shown right next to the button.
 */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!asking) {
    return (
      <span class="confirm">
        <button type="button" class="danger" onClick={() => setAsking(true)}>
          {props.label}
        </button>
        <ErrorText error={error} />
      </span>
    );
  }
  return (
    <span class="confirm asking">
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await props.onConfirm();
          } catch (e) {
            setError(errorMessage(e));
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {props.confirmLabel ?? `Yes, ${props.label.toLowerCase()}`}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Keep it
      </button>
    </span>
  );
}

export function CopyCommand(props: { command: string; label: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <div class="command">
      <pre title={props.label}>
        <code>{props.command}</code>
      </pre>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.command);
            setCopied("Copied.");
          } catch {
            setCopied("Copying was refused; select the text and copy it.");
          }
        }}
      >
        Copy
      </button>
      <span class="muted" aria-live="polite">
        {copied}
      </span>
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads on mount and on reload(); refreshes every `everyMs` when given. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let alive = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!alive) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!alive) return;
        setError(errorMessage(e));
        setLoading(false);
      },
    );
    const timer = everyMs ? setInterval(() => setTick((t) => t + 1), everyMs) : undefined;
    return () => {
      alive = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick]);
  return { data, error, loading, reload };
}

/** The current time, refreshed every `everyMs`, for "5m ago" labels. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
