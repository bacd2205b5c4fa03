/** @jsxImportSource hono/jsx/dom */
/**
 * Settings, API tokens: the signed-in user's own tokens, created with a role up to their
 * own and an expiry, shown once, and revoked. The hub refuses a token above its maker's
 * role; its refusals are shown next to the form.
 */
import { useState } from "hono/jsx/dom";
import type { ApiToken, CreatedApiToken, Role } from "../../shared/protocol/api.ts";
import { api, type Me } from "../api.ts";
import { ConfirmButton, CopyCommand, ErrorText, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { rolesUpTo } from "../roles.ts";
import { formText, roleOptions, useAction } from "./settings-form.tsx";

function NewTokenShown(props: { token: CreatedApiToken; onDone: () => void }) {
  return (
    <div class="card new-token" aria-live="polite">
      <h3>Token "{props.token.name}" created</h3>
      <p class="warning" role="status">
        Copy it now: this is the only time it is shown. The hub keeps only a hash.
      </p>
      <CopyCommand label="API token" command={props.token.token} />
      <p class="muted small">
        Send it as <code>Authorization: Bearer …</code> with each API request.
      </p>
      <button type="button" onClick={props.onDone}>
        Done, I copied it
      </button>
    </div>
  );
}

function CreateToken(props: { me: Me; onCreated: (token: CreatedApiToken) => void }) {
  const action = useAction();
  const roles = rolesUpTo(props.me.role);
  return (
    <form
      class="card"
      aria-label="new API token"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const days = formText(e, "expires");
        const request = {
          name: formText(e, "name"),
          role: formText(e, "role") as Role,
          expires_in_days: days ? Number(days) : undefined,
        };
        let created: CreatedApiToken | undefined;
        const ok = await action.run(async () => {
          created = await api.createToken(request);
        });
        if (ok && created) {
          form.reset();
          props.onCreated(created);
        }
      }}
    >
      <h3>New API token</h3>
      <div class="form-grid">
        <label>
          Token name
          <input name="name" required maxLength={128} placeholder="e.g. monitoring" />
        </label>
        <label>
          Token role
          <select name="role">{roleOptions(roles, roles.at(-1))}</select>
        </label>
        <label>
          Expires in days
          <input name="expires" type="number" min={1} max={3650} value="90" inputMode="numeric" />
        </label>
      </div>
      <p class="muted small">
        A token can do at most what your role ({props.me.role}) can. Leave the days empty for a
        token that never expires.
      </p>
      <ErrorText error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Create token
      </button>
    </form>
  );
}

export function TokensSection(props: { me: Me }) {
  const now = useNow();
  const tokens = useLoad(() => api.tokens(), []);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const list: ApiToken[] = tokens.data ?? [];
  return (
    <section aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p class="muted">Tokens let scripts and other tools use the API as you.</p>
      <ErrorText error={tokens.error} />
      {created && <NewTokenShown token={created} onDone={() => setCreated(null)} />}
      {tokens.data && list.length === 0 && (
        <p class="empty">No API tokens yet. Create one below for a script or a monitoring check.</p>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>Role</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr data-token={t.name}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.token_prefix}…</code>
                  </td>
                  <td>{t.role}</td>
                  <td>{t.expires_at ? new Date(t.expires_at).toLocaleDateString() : "never"}</td>
                  <td>{formatAge(t.last_used_at, now)}</td>
                  <td>
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke ${t.name}? Anything using it gets 401 from now on.`}
                      onConfirm={async () => {
                        await api.revokeToken(t.id);
                        tokens.reload();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateToken
        me={props.me}
        onCreated={(token) => {
          setCreated(token);
          tokens.reload();
        }}
      />
    </section>
  );
}
