/** @jsxImportSource hono/jsx/dom */
/**
 * Changing one machine: the edit form (rename, labels as `key=value` lines) and its row's
 * actions: disable/enable act at once (each undoes the other), revoke and delete ask first.
 */
import { useState } from "hono/jsx/dom";
import type { Machine } from "../../shared/protocol/api.ts";
import { ApiError, api, errorMessage } from "../api.ts";
import { ConfirmButton, ErrorText } from "../components.tsx";
import { formatLabels, machineUpdateBody } from "../machine-labels.ts";

/** Rename and labels; only what changed is sent, refusals show next to their field. */
export function EditMachine(props: { machine: Machine; onDone: (saved: boolean) => void }) {
  const m = props.machine;
  const [name, setName] = useState(m.name);
  const [labels, setLabels] = useState(formatLabels(m.labels));
  const [error, setError] = useState<{ field: "name" | "labels" | null; message: string } | null>(
    null,
  );
  const [busy, setBusy] = useState(false);
  const fieldError = (field: "name" | "labels") =>
    error?.field === field ? error.message : undefined;
  return (
    <form
      class="modal-form"
      aria-label={`edit ${m.name}`}
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const checked = machineUpdateBody(m, { name, labels });
        if (!checked.ok) {
          setError({ field: checked.field, message: checked.error });
          return;
        }
        if (Object.keys(checked.body).length === 0) {
          props.onDone(false);
          return;
        }
        setBusy(true);
        setError(null);
        try {
          await api.updateMachine(m.id, checked.body);
        } catch (err) {
          const path = err instanceof ApiError && /^labels\b/.test(err.message) ? "labels" : null;
          setError({ field: path, message: errorMessage(err) });
          setBusy(false);
          return;
        }
        props.onDone(true);
      }}
    >
      <h2>Edit {m.name}</h2>
      <div class={fieldError("name") ? "field invalid" : "field"}>
        <label for="machine-name">Name</label>
        <input
          id="machine-name"
          name="name"
          maxLength={128}
          value={name}
          onInput={(e: Event) => setName((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={fieldError("name") ? "true" : undefined}
        />
        <ErrorText error={fieldError("name")} />
      </div>
      <div class={fieldError("labels") ? "field invalid" : "field"}>
        <label for="machine-labels">Labels</label>
        <textarea
          id="machine-labels"
          name="labels"
          rows={3}
          placeholder={"site=home\nrole=nas"}
          value={labels}
          onInput={(e: Event) => setLabels((e.currentTarget as HTMLTextAreaElement).value)}
          aria-invalid={fieldError("labels") ? "true" : undefined}
          aria-describedby="machine-labels-hint"
        />
        <p class="hint small" id="machine-labels-hint">
          One <code>key=value</code> a line; keys are lowercase letters, digits and{" "}
          <code>. _ / -</code>. An empty box removes every label.
        </p>
        <ErrorText error={fieldError("labels")} />
      </div>
      <ErrorText error={error && error.field === null ? error.message : null} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Disable/enable (at once: each undoes the other), revoke and delete (both ask first). */
export function MachineActions(props: {
  machine: Machine;
  onChange: () => void;
  onEdit: () => void;
}) {
  const m = props.machine;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toggle = async (run: (id: number) => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await run(m.id);
      props.onChange();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="row-actions">
      <button type="button" onClick={props.onEdit}>
        Edit
      </button>
      {m.status === "disabled" && (
        <button type="button" disabled={busy} onClick={() => toggle(api.enableMachine)}>
          Enable
        </button>
      )}
      {m.status !== "disabled" && m.status !== "revoked" && (
        <button type="button" disabled={busy} onClick={() => toggle(api.disableMachine)}>
          Disable
        </button>
      )}
      {m.status !== "revoked" && (
        <ConfirmButton
          label="Revoke"
          question={`Revoke ${m.name}? Its agent can no longer connect.`}
          onConfirm={async () => {
            await api.revokeMachine(m.id);
            props.onChange();
          }}
        />
      )}
      <ConfirmButton
        label="Delete"
        question={`Delete ${m.name}? Its job history goes with it.`}
        onConfirm={async () => {
          await api.deleteMachine(m.id);
          props.onChange();
        }}
      />
      <ErrorText error={error} />
    </div>
  );
}
