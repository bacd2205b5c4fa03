/** @jsxImportSource hono/jsx/dom */
/**
 * A dialog over the page: fixed over a dimmed backdrop, so opening it never moves what is
 * behind it. Escape or a click on the backdrop closes it (when `onClose` is given); focus
 * goes to its first field or button when it opens.
 */
import type { Child } from "hono/jsx";
import { useEffect, useRef } from "hono/jsx/dom";

export function Modal(props: { label: string; onClose?: () => void; children?: Child }) {
  const backdrop = useRef<HTMLDivElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const el = backdrop.current;
    if (!el) return;
    el.querySelector<HTMLElement>(
      ".modal input, .modal textarea, .modal select, .modal button",
    )?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose.current?.();
    };
    const onClick = (e: MouseEvent) => {
      if (e.target === el) onClose.current?.();
    };
    el.addEventListener("keydown", onKey);
    el.addEventListener("click", onClick);
    return () => {
      el.removeEventListener("keydown", onKey);
      el.removeEventListener("click", onClick);
    };
  }, []);
  return (
    <div ref={backdrop} class="modal-backdrop">
      <div class="modal card" role="dialog" aria-modal="true" aria-label={props.label}>
        {props.children}
      </div>
    </div>
  );
}
