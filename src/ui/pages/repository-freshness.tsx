/** @jsxImportSource hono/jsx/dom */
/**
 * A repository's freshness on its page: the hub's verdict and why, what it expects (the
 * interval and where it comes from, the overdue deadline, overdue since), and for
 * operators and admins a small form to set the interval by hand (hours; empty: from the
 * plans) and the overdue factor. Alerting only: nothing borg reads.
 */
import { useState } from "hono/jsx/dom";
import type { Job, Repository } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ErrorText, FreshnessBadge } from "../components.tsx";
import { attentionReason, repositoryHealth } from "../fleet.ts";
import { formatDuration } from "../format.ts";

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "–");

function FreshnessFacts(props: { repo: Repository }) {
  const f = props.repo.freshness;
  return (
    <dl class="facts">
      <dt>Expected</dt>
      <dd>
        {f.expected_interval_seconds
          ? `every ${formatDuration(f.expected_interval_seconds)} (${f.expected_interval_source === "repository" ? "set on the repository" : "from its backup plans"})`
          : "nothing: no enabled backup plan and no interval set"}
      </dd>
      <dt>Overdue after</dt>
      <dd>
        {f.overdue_factor}× the interval{f.overdue_at ? `, at ${when(f.overdue_at)}` : ""}
      </dd>
      {f.overdue_since && (
        <>
          <dt>Overdue since</dt>
          <dd>{when(f.overdue_since)}</dd>
        </>
      )}
      <dt>Failed since last success</dt>
      <dd>{f.failures_since_success}</dd>
      {f.storage_evidence && <StorageEvidenceFacts evidence={f.storage_evidence} />}
    </dl>
  );
}

/**
 * What the storage box saw: its last write, and whether that agrees with the last
 * reported backup. Only a disagreement is marked (a warning); "can't tell" stays plain.
 */
function StorageEvidenceFacts(props: {
  evidence: NonNullable<Repository["freshness"]["storage_evidence"]>;
}) {
  const e = props.evidence;
  return (
    <>
      <dt>Box's last write</dt>
      <dd data-evidence={e.agrees === null ? "unknown" : e.agrees ? "agrees" : "disagrees"}>
        {e.box_last_write_at ? when(e.box_last_write_at) : "none seen"}
        {e.agrees === false && (
          <>
            {" "}
            <span class="badge tone-warn">disagrees</span>
          </>
        )}
        {e.agrees === true && " (agrees with the last backup)"}
        <div class="muted">
          {e.note}
          {e.box_listed_at ? ` (box listed ${when(e.box_listed_at)})` : ""}
        </div>
      </dd>
    </>
  );
}

/** Hours as typed ("", "24", "1.5") → seconds for the hub; null: from the plans. */
export function intervalSecondsOf(hours: string): number | null {
  const trimmed = hours.trim();
  return trimmed === "" ? null : Math.round(Number(trimmed) * 3600);
}

function FreshnessSettings(props: { repo: Repository; onSaved: () => void }) {
  const r = props.repo;
  const [hours, setHours] = useState(
    r.expected_interval_seconds === null ? "" : String(r.expected_interval_seconds / 3600),
  );
  const [factor, setFactor] = useState(String(r.overdue_factor));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="inline-form"
      data-form="freshness"
      onSubmit={async (e: Event) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await api.updateRepository(r.id, {
            expected_interval_seconds: intervalSecondsOf(hours),
            overdue_factor: Number(factor),
          });
          props.onSaved();
        } catch (failure) {
          setError(errorMessage(failure));
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        Expected every (hours; empty: from the plans){" "}
        <input
          name="expected_hours"
          inputMode="decimal"
          value={hours}
          onInput={(e: Event) => setHours((e.currentTarget as HTMLInputElement).value)}
        />
      </label>{" "}
      <label>
        Overdue after ×{" "}
        <input
          name="overdue_factor"
          inputMode="decimal"
          value={factor}
          onInput={(e: Event) => setFactor((e.currentTarget as HTMLInputElement).value)}
        />
      </label>{" "}
      <button type="submit" disabled={busy}>
        Save
      </button>
      <ErrorText error={error} />
    </form>
  );
}

export function FreshnessCard(props: {
  repo: Repository & { last_job?: Job | null };
  now: number;
  canChange: boolean;
  onSaved: () => void;
}) {
  const lastJob = props.repo.last_job ?? undefined;
  return (
    <>
      <h2 class="first">Freshness</h2>
      <p>
        <FreshnessBadge health={repositoryHealth(props.repo, lastJob)} />{" "}
        {attentionReason(props.repo, props.now, lastJob)}
      </p>
      <FreshnessFacts repo={props.repo} />
      {props.canChange && <FreshnessSettings repo={props.repo} onSaved={props.onSaved} />}
    </>
  );
}
