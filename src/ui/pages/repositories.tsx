/** @jsxImportSource hono/jsx/dom */
/**
 * Repositories with their last backup, "Back up now", and (admins only, as the hub
 * allows) the "New repository" form that creates (or imports) one on a machine. The hub
 * refuses bad settings with a 400; each refusal is shown next to the field it is about,
 * anything else above the form.
 */
import { useState } from "hono/jsx/dom";
import { ENCRYPTION_MODES, type Machine, type Repository } from "../../shared/protocol/api.ts";
import { ApiError, api, errorMessage } from "../api.ts";
import { CopyCommand, ErrorText, Link, StatusBadge, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { describedBy, Field, NO_ERRORS } from "../repository-field.tsx";
import {
  agentSecretCommand,
  emptyRepositoryForm,
  type FormErrors,
  fieldErrors,
  LOCATION_EXAMPLE,
  needsPassphraseField,
  type RepositoryFormValues,
  repositoryRequestBody,
} from "../repository-form.ts";
import { navigate } from "../routes.ts";

function BackupNow(props: { repo: Repository }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span>
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const accepted = await api.backupNow(props.repo.id);
            navigate(`/jobs/${accepted.job_id}`);
          } catch (e) {
            setError(errorMessage(e));
            setBusy(false);
          }
        }}
      >
        Back up now
      </button>
      <ErrorText error={error} />
    </span>
  );
}

function NewRepository(props: { machines: Machine[]; onCreated: (repo: Repository) => void }) {
  const usable = props.machines.filter((m) => m.status !== "revoked");
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [values, setValues] = useState<RepositoryFormValues>(emptyRepositoryForm);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  if (!open) {
    return (
      <button type="button" class="primary" onClick={() => setOpen(true)}>
        New repository
      </button>
    );
  }
  const set =
    (key: keyof RepositoryFormValues) =>
    (e: Event): void => {
      const target = e.currentTarget as HTMLInputElement;
      const value = target.type === "checkbox" ? target.checked : target.value;
      setValues((v) => ({ ...v, [key]: value }));
    };
  const machineId = values.agent_machine_id || String(usable[0]?.id ?? "");
  return (
    <form
      class="card repo-form"
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        setBusy(true);
        setErrors(NO_ERRORS);
        let created: Repository;
        try {
          created = await api.createRepository(
            repositoryRequestBody({ ...values, agent_machine_id: machineId }),
          );
        } catch (err) {
          setErrors(
            err instanceof ApiError ? fieldErrors(err) : { fields: {}, general: errorMessage(err) },
          );
          setBusy(false);
          return;
        }
        // Last: the page goes away, so no state change may follow.
        props.onCreated(created);
      }}
    >
      <h2>New repository</h2>
      <p class="muted">
        Import an existing repository: fill the same form and skip Init. The machine's agent runs
        borg against the location, so write it as that machine sees it.
      </p>
      <ErrorText error={errors.general} />
      {usable.length === 0 && (
        <p class="empty">
          No machine can take a repository yet. <Link href="/machines">Add a machine</Link> first.
        </p>
      )}
      <div class="form-grid">
        <Field field="name" label="Name" errors={errors}>
          <input
            id="repo-name"
            name="name"
            maxLength={128}
            placeholder="e.g. laptop-home"
            value={values.name}
            onInput={set("name")}
            aria-invalid={errors.fields.name ? "true" : undefined}
            aria-describedby={describedBy("name", errors)}
          />
        </Field>
        <Field field="agent_machine_id" label="Machine" errors={errors}>
          <select
            id="repo-agent_machine_id"
            name="agent_machine_id"
            value={machineId}
            onChange={set("agent_machine_id")}
            aria-invalid={errors.fields.agent_machine_id ? "true" : undefined}
            aria-describedby={describedBy("agent_machine_id", errors)}
          >
            {usable.map((m) => (
              <option value={String(m.id)}>
                {m.name} ({m.status})
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field
        field="location"
        label="Location"
        errors={errors}
        hint={
          <>
            A borg URL or a path on the machine, e.g. <code>{LOCATION_EXAMPLE}</code> or{" "}
            <code>/srv/backups/NAME</code>.
          </>
        }
      >
        <input
          id="repo-location"
          name="location"
          maxLength={4096}
          value={values.location}
          onInput={set("location")}
          aria-invalid={errors.fields.location ? "true" : undefined}
          aria-describedby={describedBy("location", errors, true)}
        />
      </Field>
      <div class="form-grid">
        <Field field="encryption" label="Encryption" errors={errors}>
          <select
            id="repo-encryption"
            name="encryption"
            value={values.encryption}
            onChange={set("encryption")}
            aria-describedby={describedBy("encryption", errors)}
          >
            {ENCRYPTION_MODES.map((mode) => (
              <option value={mode}>{mode}</option>
            ))}
          </select>
        </Field>
        <Field
          field="compression"
          label="Compression"
          errors={errors}
          hint={
            <>
              borg's <code>--compression</code>, e.g. <code>lz4</code>, <code>zstd,3</code>
            </>
          }
        >
          <input
            id="repo-compression"
            name="compression"
            value={values.compression}
            onInput={set("compression")}
            aria-invalid={errors.fields.compression ? "true" : undefined}
            aria-describedby={describedBy("compression", errors, true)}
          />
        </Field>
      </div>
      {values.encryption !== "none" && (
        <div class="field" data-field="passphrase_location">
          <label class="inline">
            <input
              type="checkbox"
              name="keep_on_machine"
              checked={values.keep_on_machine}
              onChange={set("keep_on_machine")}
            />
            Keep the passphrase on the machine (the hub never sees it)
          </label>
        </div>
      )}
      {needsPassphraseField(values) && (
        <Field
          field="passphrase"
          label="Passphrase"
          errors={errors}
          hint="Stored encrypted on the hub and handed to the agent only for this repository's jobs."
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
      {values.keep_on_machine && values.encryption !== "none" && (
        <div class="field" data-field="passphrase">
          <p>After creating it, run this on the machine and type the passphrase when asked:</p>
          <CopyCommand label="secret command" command={agentSecretCommand(values.name || "NAME")} />
          <ErrorText error={errors.fields.passphrase} />
        </div>
      )}
      <Field
        field="source_paths"
        label="Source paths"
        errors={errors}
        hint="One path a line, as the machine sees it."
      >
        <textarea
          id="repo-source_paths"
          name="source_paths"
          rows={3}
          placeholder={"/home\n/etc"}
          value={values.source_paths}
          onInput={set("source_paths")}
          aria-invalid={errors.fields.source_paths ? "true" : undefined}
          aria-describedby={describedBy("source_paths", errors, true)}
        />
      </Field>
      <Field
        field="exclude_patterns"
        label="Exclude patterns"
        errors={errors}
        hint={
          <>
            One borg pattern a line, e.g. <code>*/.cache</code>; optional.
          </>
        }
      >
        <textarea
          id="repo-exclude_patterns"
          name="exclude_patterns"
          rows={2}
          value={values.exclude_patterns}
          onInput={set("exclude_patterns")}
          aria-invalid={errors.fields.exclude_patterns ? "true" : undefined}
          aria-describedby={describedBy("exclude_patterns", errors, true)}
        />
      </Field>
      <Field
        field="archive_name"
        label="Archive name template"
        errors={errors}
        hint={
          <>
            borg placeholders work: <code>{"{hostname}"}</code>, <code>{"{now}"}</code>,{" "}
            <code>{"{user}"}</code>.
          </>
        }
      >
        <input
          id="repo-archive_name"
          name="archive_name"
          value={values.archive_name}
          onInput={set("archive_name")}
          aria-invalid={errors.fields.archive_name ? "true" : undefined}
          aria-describedby={describedBy("archive_name", errors, true)}
        />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || usable.length === 0}>
          Create repository
        </button>
        <button
          type="button"
          onClick={() => {
            setErrors(NO_ERRORS);
            setOpen(false);
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

export function RepositoriesPage() {
  const now = useNow();
  const data = useLoad(
    async () => {
      const [repositories, machines] = await Promise.all([api.repositories(), api.machines()]);
      return { repositories, machines };
    },
    [],
    10_000,
  );
  const me = useLoad(() => api.me(), []);
  // A repository decides what the machine's root-run agent reads and where it sends it,
  // so only admins create one; others see the list and "Back up now".
  const isAdmin = me.data?.role === "admin";
  const machineName = (id: number) =>
    data.data?.machines.find((m) => m.id === id)?.name ?? `#${id}`;
  const repositories = data.data?.repositories ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Repositories</h1>
      </div>
      {data.data && isAdmin && (
        <NewRepository
          machines={data.data.machines}
          onCreated={(repo) => navigate(`/repositories/${repo.id}`)}
        />
      )}
      <ErrorText error={data.error} />
      {data.data && repositories.length === 0 && (
        <p class="empty">
          {isAdmin
            ? 'No repositories yet. Press "New repository" to create one on a machine, or to import one that already exists.'
            : "No repositories yet. An admin creates them."}
        </p>
      )}
      {repositories.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Machine</th>
                <th>Location</th>
                <th>Last backup</th>
                <th>Result</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {repositories.map((r) => (
                <tr data-repository={r.name}>
                  <td>
                    <Link href={`/repositories/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>{machineName(r.agent_machine_id)}</td>
                  <td class="path">{r.location}</td>
                  <td>{formatAge(r.last_backup_at, now)}</td>
                  <td>
                    {r.last_result && r.last_job_id ? (
                      <Link href={`/jobs/${r.last_job_id}`}>
                        <StatusBadge status={r.last_result} />
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td>
                    <BackupNow repo={r} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
