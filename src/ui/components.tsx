/** @jsxImportSource hono/jsx/dom */
/**
 * Small shared pieces of the UI: in-app links, status and freshness badges, error text, a button that
 * asks before a destructive action, a copyable command, and a data loader hook.
 */
import type { Child } from "hono/jsx";
import { useCallback, useEffect, useRef, useState } from "hono/jsx/dom";
import { errorMessage } from "./api.ts";
import { HEALTH_LABELS, type RepositoryHealth } from "./fleet.ts";
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

const HEALTH_TONES: Record<RepositoryHealth, string> = {
  ok: "ok",
  overdue: "warn",
  never: "warn",
  failing: "bad",
};

/** A repository's freshness as a badge: "protected", "overdue", "failing", "never backed up". */
export function FreshnessBadge(props: { health: RepositoryHealth }) {
  return (
    <span class={`badge tone-${HEALTH_TONES[props.health]}`} data-freshness={props.health}>
      {HEALTH_LABELS[props.health]}
    </span>
  );
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
    <div class="command" data-command={props.command}>
      <pre title={props.label}>
        {/* Each word unbreakable: a line ends only at a space, never inside a URL or token. */}
        <code>
          {props.command.split(" ").map((word, i) => (
            <>
              {i > 0 && " "}
              <span class="word">{word}</span>
            </>
          ))}
        </code>
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

/**
 * Loads on mount and on reload(); refreshes every `everyMs` when given. The effect runs
 * only when `deps` change, never per refresh: hono/jsx/dom runs effects a frame after
 * rendering, so an effect re-run per tick could start its timer after the page was left,
 * and the orphaned timer's updates put the old page back into the DOM. One state update
 * per load, for the same reason.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, "reload">>({
    data: undefined,
    error: null,
    loading: true,
  });
  const trigger = useRef<() => void>(() => {});
  const reload = useCallback(() => trigger.current(), []);
  useEffect(() => {
    let alive = true;
    const run = () => {
      load().then(
        (value) => {
          if (alive) setState({ data: value, error: null, loading: false });
        },
        (e: unknown) => {
          if (alive) setState((s) => ({ ...s, error: errorMessage(e), loading: false }));
        },
      );
    };
    trigger.current = run;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      alive = false;
      trigger.current = () => {};
      if (timer) clearInterval(timer);
    };
  }, deps);
  return { ...state, reload };
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
