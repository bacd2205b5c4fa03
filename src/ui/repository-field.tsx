/** @jsxImportSource hono/jsx/dom */
/**
 * The repository forms' (create and edit) labelled field: its control, hint and the hub's
 * complaint about it, wired up with aria-describedby so a screen reader reads both.
 */
import type { Child } from "hono/jsx";
import type { FormErrors, RepositoryField } from "./repository-form.ts";

export const NO_ERRORS: FormErrors = { fields: {}, general: null };

/** A labelled control with its hint and the hub's complaint about it, if any. */
export function Field(props: {
  field: RepositoryField;
  label: string;
  errors: FormErrors;
  hint?: Child;
  children: Child;
}) {
  const error = props.errors.fields[props.field];
  return (
    <div class={error ? "field invalid" : "field"} data-field={props.field}>
      <label for={`repo-${props.field}`}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint small" id={`repo-${props.field}-hint`}>
          {props.hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`repo-${props.field}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** aria-describedby for a field's control: its hint and its error, when shown. */
export function describedBy(
  field: RepositoryField,
  errors: FormErrors,
  hasHint = false,
): string | undefined {
  const ids = [hasHint && `repo-${field}-hint`, errors.fields[field] && `repo-${field}-error`];
  return ids.filter(Boolean).join(" ") || undefined;
}
