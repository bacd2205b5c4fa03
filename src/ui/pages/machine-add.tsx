/** @jsxImportSource hono/jsx/dom */
/**
 * "Add machine": a dialog asking for a name, then an enrollment token and the commands to
 * run on the machine (the one-line install, or register where borgctl is already
 * installed), shown once. The commands carry the name and the hub's public URL (else the
 * browser's address, with a warning when that is loopback: no other machine reaches it).
 */
import { useState } from "hono/jsx/dom";
import { api, errorMessage } from "../api.ts";
import { CopyCommand, ErrorText } from "../components.tsx";
import { hubAddress, installCommand, isLoopbackUrl, registerCommand } from "../machine-commands.ts";
import { Modal } from "../modal.tsx";

interface Created {
  name: string;
  token: string;
  expires: string;
  hub: string;
}

function Commands(props: { created: Created; onDone: () => void }) {
  const { name, token, expires, hub } = props.created;
  return (
    <div aria-live="polite">
      <h2>Register "{name}"</h2>
      <p>
        Run one of these on the machine, once: the token works for one registration, until{" "}
        {new Date(expires).toLocaleString()}.
      </p>
      {isLoopbackUrl(hub) && (
        <p class="warning loopback" role="status">
          These commands use {hub}, which only this computer can reach: another machine cannot
          connect to it. Start the hub with <code>--public-url</code> (or open this page at an
          address the machine reaches) before running them elsewhere.
        </p>
      )}
      <h3>Install borgctl and start the agent as a service</h3>
      <CopyCommand label="install command" command={installCommand(hub, token, name)} />
      <h3>Or, with borgctl already installed</h3>
      <CopyCommand label="register command" command={registerCommand(hub, token, name)} />
      <p class="muted small">
        Then start the agent with <code>borgctl agent run</code>.
      </p>
      <p class="muted">The token is shown only now; it is not stored in readable form.</p>
      <button type="button" class="primary" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

export function AddMachine(props: { onDone: () => void; onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const opener = (
    <button type="button" class="primary" onClick={() => setOpen(true)}>
      Add machine
    </button>
  );
  if (!open) return opener;
  const close = () => {
    setError(null);
    setOpen(false);
  };
  if (created) {
    const done = () => {
      setCreated(null);
      setOpen(false);
      props.onDone();
    };
    return (
      <>
        {opener}
        <Modal label={`register ${created.name}`}>
          <Commands created={created} onDone={done} />
        </Modal>
      </>
    );
  }
  return (
    <>
      {opener}
      <Modal label="add a machine" onClose={close}>
        <form
          onSubmit={async (e: Event) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget as HTMLFormElement);
            const name = String(form.get("name")).trim();
            setBusy(true);
            setError(null);
            try {
              const [token, me] = await Promise.all([api.createEnrollmentToken(name), api.me()]);
              const hub = hubAddress(me.public_url, window.location.origin);
              setCreated({ name, token: token.token, expires: token.expires_at, hub });
              props.onCreated();
            } catch (err) {
              setError(errorMessage(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          <h2>Add a machine</h2>
          <label>
            Name
            <input name="name" required maxLength={128} placeholder="e.g. laptop" />
          </label>
          <ErrorText error={error} />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Create registration command
            </button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      </Modal>
    </>
  );
}
