/** @jsxImportSource hono/jsx/dom */
/**
 * A repository's settings on its page: the facts (never the passphrase: only where it is
 * kept) and the edit form, which sends only the fields that changed and shows the hub's
 * refusals at their fields.
 */
import { useState } from "hono/jsx/dom";
import { ApiError, api, errorMessage, type RepositoryDetail } from "../api.ts";
import { ErrorText, Link } from "../components.tsx";
import { describedBy, Field, NO_ERRORS } from "../repository-field.tsx";
import {
  agentSecretCommand,
  editValuesOf,
  type FormErrors,
  fieldErrors,
  type RepositoryEditValues,
  repositoryUpdateBody,
} from "../repository-form.ts";

function passphraseWhere(repo: RepositoryDetail): string {
  if (repo.passphrase_location === "agent") return "kept on the machine";
  if (repo.has_passphrase) return "stored on the hub";
  return repo.encryption === "none" ? "none (not encrypted)" : "missing: set one on the hub";
}

export function Settings(props: {
  repo: RepositoryDetail;
  machineName: string;
  /** The box's name when the repository lives on one. */
  boxName?: string;
}) {
  const r = props.repo;
  return (
    <dl class="facts">
      <dt>Machine</dt>
      <dd>{props.machineName}</dd>
      <dt>Lives on</dt>
      <dd data-lives-on>
        {r.box_id === null ? (
          "a custom location"
        ) : (
          <>
            storage box <Link href="/boxes">{props.boxName ?? `#${r.box_id}`}</Link>, host keys
            pinned by the hub
          </>
        )}
      </dd>
      <dt>Location</dt>
      <dd class="path">{r.location}</dd>
      <dt>Encryption</dt>
      <dd>{r.encryption}</dd>
      <dt>Passphrase</dt>
      <dd>
        {passphraseWhere(r)}
        {r.passphrase_location === "agent" && (
          <div class="muted small">
            On the machine: <code>{agentSecretCommand(r.name)}</code>
          </div>
        )}
      </dd>
      <dt>Source paths</dt>
      <dd class="path lines">{r.source_paths.join("\n")}</dd>
      <dt>Optional source paths</dt>
      <dd class="path lines">
        {r.optional_source_paths.length ? r.optional_source_paths.join("\n") : "none"}
      </dd>
      <dt>Exclude patterns</dt>
      <dd class="path lines">
        {r.exclude_patterns.length ? r.exclude_patterns.join("\n") : "none"}
      </dd>
      <dt>Compression</dt>
      <dd>{r.compression}</dd>
      <dt>Archive names</dt>
      <dd>
        <code>{r.archive_name}</code>
      </dd>
      {r.append_only && (
        <>
          <dt>Append only</dt>
          <dd>yes</dd>
        </>
      )}
    </dl>
  );
}

/** The edit form: PATCHes only what changed; the hub's refusals show at their fields. */
export function EditRepository(props: {
  repo: RepositoryDetail;
  onDone: (saved: boolean) => void;
}) {
  const r = props.repo;
  const [values, setValues] = useState<RepositoryEditValues>(editValuesOf(r));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const passphraseOnHub = r.passphrase_location === "hub" && r.encryption !== "none";
  const set =
    (key: keyof RepositoryEditValues) =>
    (e: Event): void => {
      const value = (e.currentTarget as HTMLInputElement).value;
      setValues((v) => ({ ...v, [key]: value }));
    };
  const text = (field: "name" | "compression" | "archive_name", label: string, hint?: string) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      <input
        id={`repo-${field}`}
        name={field}
        value={values[field]}
        onInput={set(field)}
        aria-invalid={errors.fields[field] ? "true" : undefined}
        aria-describedby={describedBy(field, errors, hint !== undefined)}
      />
    </Field>
  );
  const list = (
    field: "source_paths" | "optional_source_paths" | "exclude_patterns",
    label: string,
    hint: string,
  ) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      <textarea
        id={`repo-${field}`}
        name={field}
        rows={3}
        value={values[field]}
        onInput={set(field)}
        aria-invalid={errors.fields[field] ? "true" : undefined}
        aria-describedby={describedBy(field, errors, true)}
      />
    </Field>
  );
  return (
    <form
      class="card repo-form"
      aria-label="edit repository"
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const body = repositoryUpdateBody(r, values, passphraseOnHub);
        if (Object.keys(body).length === 0) {
          setErrors({ fields: {}, general: "Nothing changed; there is nothing to save." });
          return;
        }
        setBusy(true);
        setErrors(NO_ERRORS);
        try {
          await api.updateRepository(r.id, body);
        } catch (err) {
          setErrors(
            err instanceof ApiError ? fieldErrors(err) : { fields: {}, general: errorMessage(err) },
          );
          setBusy(false);
          return;
        }
        props.onDone(true);
      }}
    >
      <h3 class="form-title">Edit settings</h3>
      <p class="muted small">
        Only the fields you change are sent. The machine, location and encryption stay as they are.
      </p>
      <ErrorText error={errors.general} />
      <div class="form-grid">
        {text("name", "Name")}
        {text("compression", "Compression", "borg's --compression, e.g. lz4 or zstd,3")}
      </div>
      {passphraseOnHub && (
        <Field
          field="passphrase"
          label="New passphrase"
          errors={errors}
          hint="Leave empty to keep the stored one. Changing it here does not change the repository's key; use it when the stored one is wrong."
        >
          <input
            id="repo-passphrase"
            name="passphrase"
            type="password"
            autocomplete="new-password"
            value={values.passphrase}
            onInput={set("passphrase")}
            aria-invalid={errors.fields.passphrase ? "true" : undefined}
            aria-describedby={describedBy("passphrase", errors, true)}
          />
        </Field>
      )}
      {list("source_paths", "Source paths", "One path a line, as the machine sees it.")}
      {list(
        "optional_source_paths",
        "Optional source paths",
        "Backed up when the machine has them; a missing one is skipped with a warning. Optional.",
      )}
      {list("exclude_patterns", "Exclude patterns", "One borg pattern a line; optional.")}
      {text("archive_name", "Archive name template", "e.g. {hostname}-{now}")}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save changes
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
