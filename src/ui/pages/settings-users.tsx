/** @jsxImportSource hono/jsx/dom */
/**
 * Settings, users (admins only): create a user, change a role, reset a password, delete.
 * The hub keeps the last admin; its refusals are shown next to what caused them.
 */
import { useState } from "hono/jsx/dom";
import type { Role, User } from "../../shared/protocol/api.ts";
import { api, type Me } from "../api.ts";
import { ConfirmButton, ErrorText, useLoad } from "../components.tsx";
import { rolesUpTo } from "../roles.ts";
import { formText, roleOptions, useAction } from "./settings-form.tsx";

const ALL_ROLES = rolesUpTo("admin");

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

export function UsersSection(props: { me: Me }) {
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
