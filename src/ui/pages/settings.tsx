/** @jsxImportSource hono/jsx/dom */
/**
 * Settings: users and their roles (admins only: create, change role, reset password,
 * delete) and the signed-in user's own API tokens (create with a role up to their own
 * and an expiry, shown once; revoke). The hub enforces every rule (the last admin stays,
 * no token above its maker's role); its refusals are shown next to what caused them.
 */
import { useState } from "hono/jsx/dom";
import type { ApiToken, CreatedApiToken, Role, User } from "../../shared/protocol/api.ts";
import { api, errorMessage, type Me } from "../api.ts";
import { ConfirmButton, CopyCommand, ErrorText, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import { rolesUpTo } from "../roles.ts";

const ALL_ROLES = rolesUpTo("admin");

/** Runs a form's action with busy/error state; returns whether it succeeded. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function roleOptions(roles: Role[], selected: Role | undefined) {
  return roles.map((r) => (
    <option value={r} selected={r === selected}>
      {r}
    </option>
  ));
}

/** A role picker outside a form (a user's row): it acts on change. */
function RoleSelect(props: {
  roles: Role[];
  value?: Role;
  name?: string;
  label: string;
  onChange?: (role: Role) => void;
  disabled?: boolean;
}) {
  return (
    <select
      name={props.name}
      value={props.value}
      aria-label={props.label}
      disabled={props.disabled}
      onChange={(e: Event) => props.onChange?.((e.target as HTMLSelectElement).value as Role)}
    >
      {roleOptions(props.roles, props.value)}
    </select>
  );
}

function formText(e: Event, field: string): string {
  return String(new FormData(e.currentTarget as HTMLFormElement).get(field) ?? "").trim();
}

function CreateUser(props: { onDone: () => void }) {
  const action = useAction();
  return (
    <form
      class="card"
      aria-label="new user"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const user = {
          username: formText(e, "username"),
          password: String(new FormData(form).get("password") ?? ""),
          role: formText(e, "role") as Role,
        };
        if (await action.run(() => api.createUser(user))) {
          form.reset();
          props.onDone();
        }
      }}
    >
      <h3>New user</h3>
      <div class="form-grid">
        <label>
          Username
          <input name="username" required maxLength={64} autocomplete="off" />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            minLength={12}
            maxLength={1024}
            autocomplete="new-password"
          />
        </label>
        <label>
          Role
          <select name="role">{roleOptions(ALL_ROLES, "viewer")}</select>
        </label>
      </div>
      <p class="muted small">
        Viewers read everything; operators also run jobs and manage repositories; admins also manage
        machines and users. Passwords need at least 12 characters.
      </p>
      <ErrorText error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Create user
      </button>
    </form>
  );
}

function ResetPassword(props: { user: User }) {
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState(false);
  const action = useAction();
  if (!open) {
    return (
      <span>
        <button
          type="button"
          onClick={() => {
            setOpen(true);
            setDone(false);
          }}
        >
          Reset password
        </button>
        {done && (
          <span class="muted small" role="status">
            {" "}
            Password changed; their sessions were ended.
          </span>
        )}
      </span>
    );
  }
  return (
    <form
      class="inline-form"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const password = String(
          new FormData(e.currentTarget as HTMLFormElement).get("password") ?? "",
        );
        if (await action.run(() => api.updateUser(props.user.id, { password }))) {
          setOpen(false);
          setDone(true);
        }
      }}
    >
      <label class="inline">
        New password for {props.user.username}
        <input
          name="password"
          type="password"
          required
          minLength={12}
          maxLength={1024}
          autocomplete="new-password"
        />
      </label>
      <button type="submit" class="primary" disabled={action.busy}>
        Set password
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}

function UserRow(props: { user: User; me: Me; onChange: () => void }) {
  const u = props.user;
  const role = useAction();
  return (
    <tr data-user={u.username}>
      <td>
        {u.username}
        {u.id === props.me.id && <span class="muted small"> (you)</span>}
      </td>
      <td>
        <RoleSelect
          roles={ALL_ROLES}
          value={u.role}
          label={`Role of ${u.username}`}
          disabled={role.busy}
          onChange={async (next) => {
            await role.run(() => api.updateUser(u.id, { role: next }));
            // On a refusal the list reloads too, so the select shows the role kept.
            props.onChange();
          }}
        />
        <ErrorText error={role.error} />
      </td>
      <td>
        <div class="row-actions">
          <ResetPassword user={u} />
          {u.id !== props.me.id && (
            <ConfirmButton
              label="Delete"
              question={`Delete user ${u.username}? Their sessions and API tokens stop working.`}
              onConfirm={async () => {
                await api.deleteUser(u.id);
                props.onChange();
              }}
            />
          )}
        </div>
      </td>
    </tr>
  );
}

function UsersSection(props: { me: Me }) {
  const users = useLoad(() => api.users(), []);
  const list = users.data ?? [];
  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      <ErrorText error={users.error} />
      {list.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Username</th>
                <th>Role</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <UserRow user={u} me={props.me} onChange={users.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateUser onDone={users.reload} />
    </section>
  );
}

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

function TokensSection(props: { me: Me }) {
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

export function SettingsPage() {
  const me = useLoad(() => api.me(), []);
  return (
    <section>
      <h1>Settings</h1>
      <ErrorText error={me.error} />
      {!me.data && !me.error && <p class="muted">Loading…</p>}
      {me.data?.role === "admin" && <UsersSection me={me.data} />}
      {me.data && <TokensSection me={me.data} />}
    </section>
  );
}
