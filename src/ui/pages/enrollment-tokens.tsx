/** @jsxImportSource hono/jsx/dom */
/**
 * The enrollment tokens admins see on the machines page: each one's state (used and by
 * which machine, revoked, expired or still open); an unused one can be revoked.
 */
import type { Machine } from "../../shared/protocol/api.ts";
import { api, type EnrollmentTokenInfo } from "../api.ts";
import { ConfirmButton } from "../components.tsx";

function tokenState(t: EnrollmentTokenInfo, machines: Machine[], now: number): string {
  if (t.used_at) {
    const by = machines.find((m) => m.id === t.used_by_agent_machine_id)?.name;
    return by ? `used by ${by}` : "used";
  }
  if (t.revoked_at) return "revoked";
  if (Date.parse(t.expires_at) <= now) return "expired";
  return "unused";
}

/** Admins: every enrollment token and its state; an unused one can be revoked. */
export function EnrollmentTokens(props: {
  tokens: EnrollmentTokenInfo[];
  machines: Machine[];
  now: number;
  onChange: () => void;
}) {
  if (props.tokens.length === 0) {
    return (
      <p class="empty">
        No enrollment tokens yet. "Add machine" makes one for each machine to register.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Token</th>
            <th>Expires</th>
            <th>State</th>
            <th>
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.tokens.map((t) => {
            const state = tokenState(t, props.machines, props.now);
            return (
              <tr data-enrollment-token={t.name}>
                <td>{t.name}</td>
                <td>
                  <code>{t.token_prefix}…</code>
                </td>
                <td>{new Date(t.expires_at).toLocaleString()}</td>
                <td>{state}</td>
                <td>
                  {state === "unused" && (
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke the token for ${t.name}? It can no longer register a machine.`}
                      onConfirm={async () => {
                        await api.revokeEnrollmentToken(t.id);
                        props.onChange();
                      }}
                    />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
