/** @jsxImportSource hono/jsx/dom */
/**
 * "New repository" (admins only, as the hub allows): the form that creates (or imports)
 * a repository on a machine. The hub refuses bad settings with a 400; each refusal is
 * shown next to the field it is about, in words saying what to type, anything else above
 * the form.
 */
import { useState } from "hono/jsx/dom";
import {
  type Box,
  ENCRYPTION_MODES,
  type Machine,
  type Repository,
} from "../../shared/protocol/api.ts";
import { ApiError, api, errorMessage } from "../api.ts";
import { CopyCommand, ErrorText, Link } from "../components.tsx";
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
import { WhatToBackUp } from "./repository-new-fields.tsx";

export function NewRepository(props: {
  machines: Machine[];
  boxes: Box[];
  onCreated: (repo: Repository) => void;
}) {
  const usable = props.machines.filter((m) => m.status !== "revoked");
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [values, setValues] = useState<RepositoryFormValues>({
    ...emptyRepositoryForm,
    box_id: props.boxes[0] ? String(props.boxes[0].id) : "",
  });
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
        On a storage box, one press creates, pins and initializes the repository. Import an existing
        repository: fill the same form and skip Init. The machine's agent runs borg against a custom
        location, so write it as that machine sees it.
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
        field="box_id"
        label="Store on"
        errors={errors}
        hint={
          values.box_id
            ? "The hub creates the repo on the box with this machine's SSH key, pins the box's host keys and initializes it."
            : "A location you manage yourself."
        }
      >
        <select
          id="repo-box_id"
          name="box_id"
          value={values.box_id}
          onChange={set("box_id")}
          aria-describedby={describedBy("box_id", errors, true)}
        >
          {props.boxes.map((b) => (
            <option value={String(b.id)}>
              {b.name} ({b.status})
            </option>
          ))}
          <option value="">custom location</option>
        </select>
      </Field>
      {values.box_id === "" && (
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
      )}
      <div class="field" data-field="append_only">
        <label class="inline">
          <input
            type="checkbox"
            name="append_only"
            checked={values.append_only}
            onChange={set("append_only")}
          />
          Append-only: the machine can add archives but not delete them (ransomware on the machine
          cannot destroy its backups)
        </label>
        <ErrorText error={errors.fields.append_only} />
      </div>
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
      <WhatToBackUp values={values} errors={errors} set={set} />
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
