/** @jsxImportSource hono/jsx/dom */
/**
 * The repository page's backup plans: each plan's schedule in words, its next run, what
 * its retention keeps, and (operators and admins) run now, enable/disable, edit, delete;
 * and the form that creates or edits one, with schedule presets, a live preview of the
 * next 5 runs in the chosen timezone, and the retention explained in one line.
 *
 * The preview asks the hub (GET /api/plans/preview), debounced while typing: the hub's
 * croner, runtime and timezone data are what will schedule the plan, so the preview
 * cannot disagree with the scheduler, and the browser bundle stays without a cron library.
 */
import { useEffect, useState } from "hono/jsx/dom";
import type { Plan, PlanPreview } from "../../shared/protocol/api.ts";
import { api, errorMessage } from "../api.ts";
import { ConfirmButton, ErrorText, Link, useLoad, useNow } from "../components.tsx";
import { formatAge } from "../format.ts";
import {
  choiceOf,
  DEFAULT_SCHEDULE,
  describeRetention,
  formatRunTime,
  formatUntil,
  RETENTION_RULES,
  type RetentionInput,
  retentionInput,
  retentionOf,
  type ScheduleChoice,
  type SchedulePreset,
  scheduleOf,
  WEEKDAY_NAMES,
} from "../plan-form.ts";

const browserTimezone = (): string => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
};

const TIMEZONES: readonly string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf(
      "timeZone",
    );
  } catch {
    return [];
  }
})();

const inputValue = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const inputChecked = (e: Event) => (e.currentTarget as HTMLInputElement).checked;

/** The preview of a schedule, asked for 300 ms after the last change. */
function usePreview(schedule: string | null, timezone: string) {
  const [state, setState] = useState<{ preview?: PlanPreview; error?: string }>({});
  useEffect(() => {
    if (schedule === null) {
      setState({});
      return;
    }
    let alive = true;
    const timer = setTimeout(() => {
      api.previewPlan(schedule, timezone).then(
        (preview) => alive && setState({ preview }),
        (e: unknown) => alive && setState({ error: errorMessage(e) }),
      );
    }, 300);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [schedule, timezone]);
  return state;
}

interface FormValues {
  name: string;
  choice: ScheduleChoice;
  timezone: string;
  retention: RetentionInput;
  pruneAfterBackup: boolean;
  compactEveryDays: string;
  checkEveryDays: string;
  checkVerifyData: boolean;
  missedRun: "run_once" | "skip";
  randomDelaySeconds: string;
}

const valuesOf = (plan: Plan | undefined): FormValues => ({
  name: plan?.name ?? "",
  choice: plan ? choiceOf(plan.schedule) : DEFAULT_SCHEDULE,
  timezone: plan?.timezone ?? browserTimezone(),
  retention: plan
    ? retentionInput(plan.retention)
    : { keep_daily: "7", keep_weekly: "4", keep_monthly: "12" },
  pruneAfterBackup: plan?.prune_after_backup ?? true,
  compactEveryDays: plan?.compact_every_days?.toString() ?? "",
  checkEveryDays: plan?.check_every_days?.toString() ?? "",
  checkVerifyData: plan?.check_verify_data ?? false,
  missedRun: plan?.missed_run ?? "run_once",
  randomDelaySeconds: String(plan?.random_delay_seconds ?? 0),
});

/** An optional whole number of days (empty: the default / none). */
function days(
  raw: string,
  field: string,
): { ok: true; value: number | null } | { ok: false; error: string } {
  const text = raw.trim();
  if (text === "") return { ok: true, value: null };
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3650) {
    return { ok: false, error: `${field}: a whole number of days from 1 to 3650` };
  }
  return { ok: true, value: Number(text) };
}

function requestBody(
  values: FormValues,
): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
  const schedule = scheduleOf(values.choice);
  if (!schedule.ok) return schedule;
  const retention = retentionOf(values.retention);
  if (!retention.ok) return retention;
  const compact = days(values.compactEveryDays, "Compact every");
  if (!compact.ok) return compact;
  const check = days(values.checkEveryDays, "Check every");
  if (!check.ok) return check;
  const delay = values.randomDelaySeconds.trim() || "0";
  if (!/^\d+$/.test(delay) || Number(delay) > 86_400) {
    return { ok: false, error: "Random delay: whole seconds from 0 to 86400" };
  }
  return {
    ok: true,
    body: {
      ...(values.name.trim() ? { name: values.name.trim() } : {}),
      schedule: schedule.value,
      timezone: values.timezone.trim() || "UTC",
      retention: retention.value,
      prune_after_backup: retention.value !== null && values.pruneAfterBackup,
      compact_every_days: compact.value,
      check_every_days: check.value,
      check_verify_data: values.checkVerifyData,
      missed_run: values.missedRun,
      random_delay_seconds: Number(delay),
    },
  };
}

export function PlanForm(props: {
  repositoryId: number;
  plan?: Plan;
  onDone: (saved: boolean) => void;
}) {
  const [values, setValues] = useState<FormValues>(valuesOf(props.plan));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (change: Partial<FormValues>) => setValues((v) => ({ ...v, ...change }));
  const setChoice = (change: Partial<ScheduleChoice>) =>
    setValues((v) => ({ ...v, choice: { ...v.choice, ...change } }));
  const schedule = scheduleOf(values.choice);
  const timezone = values.timezone.trim() || "UTC";
  const preview = usePreview(schedule.ok ? schedule.value : null, timezone);
  const retention = retentionOf(values.retention);
  const preset = values.choice.preset;

  return (
    <form
      class="card plan-form"
      aria-label={props.plan ? `Edit plan ${props.plan.name}` : "New plan"}
      noValidate
      onSubmit={async (e: Event) => {
        e.preventDefault();
        const checked = requestBody(values);
        if (!checked.ok) {
          setError(checked.error);
          return;
        }
        setBusy(true);
        setError(null);
        try {
          if (props.plan) await api.updatePlan(props.plan.id, checked.body);
          else await api.createPlan({ repository_id: props.repositoryId, ...checked.body });
          props.onDone(true);
        } catch (e) {
          setError(errorMessage(e));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3 class="form-title">{props.plan ? `Edit ${props.plan.name}` : "New plan"}</h3>
      <label>
        Name (optional)
        <input
          name="name"
          value={values.name}
          placeholder="e.g. nightly"
          onInput={(e: Event) => set({ name: inputValue(e) })}
        />
      </label>
      <fieldset>
        <legend>When</legend>
        <div class="preset-row">
          {(
            [
              ["hourly", "Hourly"],
              ["daily", "Daily at…"],
              ["weekly", "Weekly on…"],
              ["custom", "Custom cron"],
            ] as [SchedulePreset, string][]
          ).map(([value, label]) => (
            <label class="inline">
              <input
                type="radio"
                name="preset"
                value={value}
                checked={preset === value}
                onChange={() => setChoice({ preset: value })}
              />
              {label}
            </label>
          ))}
        </div>
        {preset === "hourly" && (
          <label>
            Minute past the hour
            <input
              name="minute"
              inputMode="numeric"
              value={values.choice.minute}
              onInput={(e: Event) => setChoice({ minute: inputValue(e) })}
            />
          </label>
        )}
        {preset === "weekly" && (
          <label>
            Day
            <select
              name="weekday"
              value={values.choice.weekday}
              onChange={(e: Event) => setChoice({ weekday: inputValue(e) })}
            >
              {WEEKDAY_NAMES.map((day, i) => (
                <option value={String(i)} selected={values.choice.weekday === String(i)}>
                  {day}
                </option>
              ))}
            </select>
          </label>
        )}
        {(preset === "daily" || preset === "weekly") && (
          <label>
            Time (HH:MM)
            <input
              name="time"
              value={values.choice.time}
              placeholder="02:00"
              onInput={(e: Event) => setChoice({ time: inputValue(e) })}
            />
          </label>
        )}
        {preset === "custom" && (
          <label>
            Cron expression (5 fields, or 6 with seconds first, or @daily …)
            <input
              name="cron"
              value={values.choice.cron}
              placeholder="0 2 * * *"
              onInput={(e: Event) => setChoice({ cron: inputValue(e) })}
            />
          </label>
        )}
        <label>
          Timezone
          <input
            name="timezone"
            list="plan-timezones"
            value={values.timezone}
            onInput={(e: Event) => set({ timezone: inputValue(e) })}
          />
          <datalist id="plan-timezones">
            {TIMEZONES.map((zone) => (
              <option value={zone} />
            ))}
          </datalist>
        </label>
        <div class="plan-preview" aria-live="polite" data-preview>
          {!schedule.ok && <ErrorText error={schedule.error} />}
          {schedule.ok && preview.error && <ErrorText error={preview.error} />}
          {schedule.ok && preview.preview && (
            <>
              <p>
                <strong>{preview.preview.description}</strong>. Next runs:
              </p>
              <ol class="next-runs">
                {preview.preview.next_runs.map((iso) => (
                  <li data-run={iso}>{formatRunTime(iso, timezone)}</li>
                ))}
              </ol>
            </>
          )}
        </div>
      </fieldset>
      <fieldset>
        <legend>What to keep (borg prune, this plan's archives only)</legend>
        <div class="keep-grid">
          {[...RETENTION_RULES, ["keep_within", "Keep within"] as const].map(([rule, label]) => (
            <label>
              {label}
              <input
                name={rule}
                inputMode={rule === "keep_within" ? undefined : "numeric"}
                placeholder={rule === "keep_within" ? "e.g. 7d" : ""}
                value={values.retention[rule] ?? ""}
                onInput={(e: Event) => {
                  const value = inputValue(e);
                  setValues((v) => ({ ...v, retention: { ...v.retention, [rule]: value } }));
                }}
              />
            </label>
          ))}
        </div>
        <p class="muted small" data-retention-summary>
          {retention.ok
            ? describeRetention(retention.value, values.pruneAfterBackup)
            : retention.error}
        </p>
        <label class="inline">
          <input
            type="checkbox"
            name="prune_after_backup"
            checked={values.pruneAfterBackup}
            onChange={(e: Event) => set({ pruneAfterBackup: inputChecked(e) })}
          />
          Prune after each successful backup
        </label>
      </fieldset>
      <fieldset>
        <legend>Maintenance</legend>
        <label>
          Compact every (days, after a prune; empty: 7)
          <input
            name="compact_every_days"
            inputMode="numeric"
            value={values.compactEveryDays}
            onInput={(e: Event) => set({ compactEveryDays: inputValue(e) })}
          />
        </label>
        <label>
          Check every (days; empty: never)
          <input
            name="check_every_days"
            inputMode="numeric"
            value={values.checkEveryDays}
            onInput={(e: Event) => set({ checkEveryDays: inputValue(e) })}
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="check_verify_data"
            checked={values.checkVerifyData}
            onChange={(e: Event) => set({ checkVerifyData: inputChecked(e) })}
          />
          Verify data when checking (reads every chunk; slow)
        </label>
        <label>
          When the hub was down at a due time
          <select
            name="missed_run"
            onChange={(e: Event) => set({ missedRun: inputValue(e) as FormValues["missedRun"] })}
          >
            <option value="run_once" selected={values.missedRun === "run_once"}>
              Run once when it is back
            </option>
            <option value="skip" selected={values.missedRun === "skip"}>
              Skip it
            </option>
          </select>
        </label>
        <label>
          Random delay (seconds, spreads many machines' backups)
          <input
            name="random_delay_seconds"
            inputMode="numeric"
            value={values.randomDelaySeconds}
            onInput={(e: Event) => set({ randomDelaySeconds: inputValue(e) })}
          />
        </label>
      </fieldset>
      <ErrorText error={error} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          {props.plan ? "Save plan" : "Create plan"}
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PlanCard(props: {
  plan: Plan;
  now: number;
  canChange: boolean;
  onChanged: () => void;
  onEdit: () => void;
}) {
  const { plan } = props;
  const [message, setMessage] = useState<{ jobId?: number; error?: string } | null>(null);
  const act = async (action: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await action();
      props.onChanged();
    } catch (e) {
      setMessage({ error: errorMessage(e) });
    }
  };
  return (
    <div class="card plan" data-plan={plan.id}>
      <div class="title-row">
        <h3 class="first">{plan.name}</h3>
        <span class={plan.enabled ? "badge tone-ok" : "badge tone-muted"}>
          {plan.enabled ? "enabled" : "disabled"}
        </span>
      </div>
      {/* A plan named after its schedule (the default) needs the words only once. */}
      {plan.description !== plan.name && <p>{plan.description}</p>}
      <p data-next-run>
        Next run:{" "}
        {plan.next_run_at
          ? `${formatRunTime(plan.next_run_at, plan.timezone)} (${formatUntil(plan.next_run_at, props.now)})`
          : "none (disabled)"}
      </p>
      <p class="muted small">
        {describeRetention(plan.retention, plan.prune_after_backup)} Archives: {plan.archive_prefix}
        …{plan.check_every_days ? ` Checked every ${plan.check_every_days} days.` : ""}
      </p>
      <p class="muted small">
        Last run: {formatAge(plan.last_run_at, props.now)}
        {plan.last_job_id && (
          <>
            {" "}
            (<Link href={`/jobs/${plan.last_job_id}`}>job #{plan.last_job_id}</Link>)
          </>
        )}
      </p>
      {props.canChange && (
        <div class="actions">
          <button
            type="button"
            onClick={async () => {
              setMessage(null);
              try {
                const accepted = await api.runPlan(plan.id);
                setMessage({ jobId: accepted.job_id });
                props.onChanged();
              } catch (e) {
                setMessage({ error: errorMessage(e) });
              }
            }}
          >
            Run now
          </button>
          <button
            type="button"
            onClick={() => act(() => api.updatePlan(plan.id, { enabled: !plan.enabled }))}
          >
            {plan.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" onClick={props.onEdit}>
            Edit
          </button>
          <ConfirmButton
            label="Delete plan"
            question={`Delete ${plan.name}? Its archives stay.`}
            confirmLabel="Yes, delete the plan"
            onConfirm={async () => {
              await api.deletePlan(plan.id);
              props.onChanged();
            }}
          />
        </div>
      )}
      <div aria-live="polite">
        {message?.jobId && (
          <p>
            Backup queued as <Link href={`/jobs/${message.jobId}`}>job #{message.jobId}</Link>.
          </p>
        )}
        {message?.error && <ErrorText error={message.error} />}
      </div>
    </div>
  );
}

export function RepositoryPlans(props: { repositoryId: number; canChange: boolean }) {
  const now = useNow(15_000);
  const plans = useLoad(() => api.plans(props.repositoryId), [props.repositoryId], 15_000);
  // null: no form; "new": the create form; a number: that plan's edit form.
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const done = (saved: boolean) => {
    setEditing(null);
    if (saved) plans.reload();
  };
  return (
    <>
      <div class="title-row">
        <h2>Plans</h2>
        {props.canChange && editing === null && (
          <button type="button" onClick={() => setEditing("new")}>
            New plan
          </button>
        )}
      </div>
      <ErrorText error={plans.error} />
      {editing === "new" && <PlanForm repositoryId={props.repositoryId} onDone={done} />}
      {plans.data?.length === 0 && editing !== "new" && (
        <p class="empty">No plans: this repository is backed up only when someone asks.</p>
      )}
      {plans.data?.map((plan) =>
        editing === plan.id ? (
          <PlanForm repositoryId={props.repositoryId} plan={plan} onDone={done} />
        ) : (
          <PlanCard
            plan={plan}
            now={now}
            canChange={props.canChange && editing === null}
            onChanged={plans.reload}
            onEdit={() => setEditing(plan.id)}
          />
        ),
      )}
    </>
  );
}
