/**
 * The plan form's rules, apart from its markup: schedule presets (hourly, daily at…,
 * weekly on…, custom cron) turned into a cron expression and back, the plan's request
 * body from what was typed (a plain-words error naming the field otherwise), a next run
 * in words, and the one-line explanation of what a retention keeps. The hub parses and
 * checks the schedule (croner); presets only write the few shapes they offer and
 * recognise exactly those shapes again when a plan is edited, anything else is custom.
 */
import type { Plan } from "../shared/protocol/api.ts";

export type SchedulePreset = "hourly" | "daily" | "weekly" | "custom";

export interface ScheduleChoice {
  preset: SchedulePreset;
  /** hourly: the minute past each hour. */
  minute: string;
  /** daily/weekly: "HH:MM". */
  time: string;
  /** weekly: 0 (Sunday) … 6 (Saturday). */
  weekday: string;
  /** custom: a cron expression as croner reads it. */
  cron: string;
}

export const WEEKDAY_NAMES = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];

export const DEFAULT_SCHEDULE: ScheduleChoice = {
  preset: "daily",
  minute: "0",
  time: "02:00",
  weekday: "0",
  cron: "0 2 * * *",
};

type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** The cron expression of a choice, or why it has none. */
export function scheduleOf(choice: ScheduleChoice): Checked<string> {
  if (choice.preset === "custom") {
    const cron = choice.cron.trim().replace(/\s+/g, " ");
    return cron
      ? { ok: true, value: cron }
      : { ok: false, error: "schedule: enter a cron expression" };
  }
  if (choice.preset === "hourly") {
    const minute = choice.minute.trim();
    if (!/^\d{1,2}$/.test(minute) || Number(minute) > 59) {
      return { ok: false, error: "minute: a whole number from 0 to 59" };
    }
    return { ok: true, value: `${Number(minute)} * * * *` };
  }
  const time = TIME.exec(choice.time.trim());
  if (!time) return { ok: false, error: "time: HH:MM, e.g. 02:00" };
  const at = `${Number(time[2])} ${Number(time[1])}`;
  if (choice.preset === "daily") return { ok: true, value: `${at} * * *` };
  return { ok: true, value: `${at} * * ${choice.weekday}` };
}

const pad = (n: string) => n.padStart(2, "0");

/** The choice that writes `schedule` again: a preset when it is one's exact shape. */
export function choiceOf(schedule: string): ScheduleChoice {
  const base = { ...DEFAULT_SCHEDULE, cron: schedule };
  const hourly = /^(\d{1,2}) \* \* \* \*$/.exec(schedule);
  if (hourly?.[1]) return { ...base, preset: "hourly", minute: hourly[1] };
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* (\*|[0-6])$/.exec(schedule);
  if (daily?.[1] && daily[2] && daily[3]) {
    const time = `${pad(daily[2])}:${pad(daily[1])}`;
    return daily[3] === "*"
      ? { ...base, preset: "daily", time }
      : { ...base, preset: "weekly", time, weekday: daily[3] };
  }
  return { ...base, preset: "custom" };
}

export const RETENTION_RULES = [
  ["keep_last", "Keep last"],
  ["keep_hourly", "Hourly"],
  ["keep_daily", "Daily"],
  ["keep_weekly", "Weekly"],
  ["keep_monthly", "Monthly"],
  ["keep_yearly", "Yearly"],
] as const;
export type RetentionCount = (typeof RETENTION_RULES)[number][0];

export type RetentionInput = Partial<Record<RetentionCount | "keep_within", string>>;
export type Retention = NonNullable<Plan["retention"]>;

/** The retention of what was typed: null when every field is empty. */
export function retentionOf(input: RetentionInput): Checked<Retention | null> {
  const retention: Retention = {};
  for (const [rule, label] of RETENTION_RULES) {
    const raw = (input[rule] ?? "").trim();
    if (raw === "") continue;
    if (!/^\d+$/.test(raw)) return { ok: false, error: `${label}: a whole number` };
    if (Number(raw) > 0) retention[rule] = Number(raw);
  }
  const within = (input.keep_within ?? "").trim();
  if (within !== "") {
    if (!/^[1-9]\d{0,5}[Hdwmy]$/.test(within)) {
      return { ok: false, error: "Keep within: a number and H, d, w, m or y, e.g. 7d" };
    }
    retention.keep_within = within;
  }
  return { ok: true, value: Object.keys(retention).length > 0 ? retention : null };
}

export function retentionInput(retention: Plan["retention"]): RetentionInput {
  const input: RetentionInput = {};
  for (const [rule] of RETENTION_RULES) {
    const value = retention?.[rule];
    if (value !== undefined) input[rule] = String(value);
  }
  if (retention?.keep_within) input.keep_within = retention.keep_within;
  return input;
}

const WITHIN_UNITS: Record<string, string> = {
  H: "hour",
  d: "day",
  w: "week",
  m: "month",
  y: "year",
};
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * What a retention keeps, in one line (borg prune's rules, applied to this plan's
 * archives only): "Keeps the newest 2 archives; the last archive of each of 7 days, 4 weeks and
 * 12 months; this plan's other archives are deleted after each backup."
 */
export function describeRetention(retention: Retention | null, prunes = true): string {
  if (!retention) return "No retention: every archive of this plan is kept.";
  const parts: string[] = [];
  if (retention.keep_within) {
    const unit = WITHIN_UNITS[retention.keep_within.slice(-1)] ?? "";
    parts.push(
      `every archive of the last ${plural(Number(retention.keep_within.slice(0, -1)), unit)}`,
    );
  }
  if (retention.keep_last) {
    const n = retention.keep_last;
    parts.push(n === 1 ? "the newest archive" : `the newest ${n} archives`);
  }
  const periods = (
    [
      ["keep_hourly", "hour"],
      ["keep_daily", "day"],
      ["keep_weekly", "week"],
      ["keep_monthly", "month"],
      ["keep_yearly", "year"],
    ] as const
  )
    .filter(([rule]) => (retention[rule] ?? 0) > 0)
    .map(([rule, word]) => plural(retention[rule] as number, word));
  if (periods.length > 0) {
    const list =
      periods.length === 1
        ? periods[0]
        : `${periods.slice(0, -1).join(", ")} and ${periods.at(-1)}`;
    parts.push(`the last archive of each of ${list}`);
  }
  const kept = `Keeps ${parts.join("; ")}`;
  return prunes
    ? `${kept}; this plan's other archives are deleted after each backup.`
    : `${kept} (pruning after backups is off).`;
}

/** A due time in the plan's timezone: "Sun, 30 Mar 2025, 03:00". */
export function formatRunTime(iso: string, timezone: string): string {
  try {
    return new Date(iso).toLocaleString("en-GB", {
      timeZone: timezone,
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: iso.slice(17, 19) === "00" ? undefined : "2-digit",
    });
  } catch {
    return iso;
  }
}

/** How far ahead a time is: "in 5m", "in 3h", "now". */
export function formatUntil(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return "not scheduled";
  const seconds = (Date.parse(iso) - nowMs) / 1000;
  if (Number.isNaN(seconds)) return "–";
  if (seconds < 60) return "in under a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `in ${minutes}m`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours}h`;
  return `in ${Math.round(hours / 24)}d`;
}

/** The soonest next run among `plans` (enabled ones only have one). */
export function soonestRun(plans: readonly Plan[]): string | null {
  let soonest: string | null = null;
  for (const plan of plans) {
    const next = plan.next_run_at;
    if (next && (soonest === null || Date.parse(next) < Date.parse(soonest))) soonest = next;
  }
  return soonest;
}

/** Each repository's soonest next run (null: it has plans, none enabled); absent: no plan. */
export function nextRunByRepository(plans: readonly Plan[]): Map<number, string | null> {
  const byRepository = new Map<number, Plan[]>();
  for (const plan of plans) {
    byRepository.set(plan.repository_id, [...(byRepository.get(plan.repository_id) ?? []), plan]);
  }
  return new Map([...byRepository].map(([id, list]) => [id, soonestRun(list)]));
}

/** The "Next backup" cell of a repository: "in 5h", "plans disabled", "no plan". */
export function nextRunLabel(next: string | null | undefined, nowMs: number): string {
  if (next === undefined) return "no plan";
  if (next === null) return "plans disabled";
  return formatUntil(next, nowMs);
}
