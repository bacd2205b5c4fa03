/**
 * The repository pages' pure logic: the create/import form's values → the
 * CreateRepositoryRequest body, an API error → a message per form field, the retention
 * form → a PruneJobRequest body (or why it can't be sent), and the command that puts an
 * agent-held passphrase on the machine, and the edit form → the changed fields of an
 * UpdateRepositoryRequest. No DOM, so the unit tests pin all of it.
 */
import { DEFAULT_ARCHIVE_NAME } from "../shared/protocol/api.ts";
import { friendlyFieldMessage } from "./form-messages.ts";

export const DEFAULT_ENCRYPTION = "repokey-blake2";
export const DEFAULT_COMPRESSION = "lz4";
export const LOCATION_EXAMPLE = "ssh://borg@box.example.com/var/lib/borg/repos/NAME";

/** What the create form holds, as the user typed it (all strings but the two choices). */
export interface RepositoryFormValues {
  name: string;
  agent_machine_id: string;
  location: string;
  encryption: string;
  passphrase: string;
  /** "keep the passphrase on the machine" */
  keep_on_machine: boolean;
  source_paths: string;
  /** Backed up when present on the machine, skipped with a warning when not. */
  optional_source_paths: string;
  exclude_patterns: string;
  compression: string;
  archive_name: string;
  /** "Store on": a box's id, or "" for a custom location. */
  box_id: string;
  append_only: boolean;
}

export const emptyRepositoryForm: RepositoryFormValues = {
  name: "",
  agent_machine_id: "",
  location: "",
  encryption: DEFAULT_ENCRYPTION,
  passphrase: "",
  keep_on_machine: false,
  source_paths: "",
  optional_source_paths: "",
  exclude_patterns: "",
  compression: DEFAULT_COMPRESSION,
  archive_name: DEFAULT_ARCHIVE_NAME,
  box_id: "",
  append_only: false,
};

/** One entry a line; blank lines and the spaces around an entry are dropped. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Whether the form shows a passphrase field at all. */
export function needsPassphraseField(values: RepositoryFormValues): boolean {
  return !values.keep_on_machine && values.encryption !== "none";
}

/**
 * The POST /api/repositories body. Empty optional fields are left out so the hub applies
 * its defaults; the passphrase goes only when the hub is to keep it. Validation is the
 * hub's: whatever it refuses comes back as a field error (see fieldErrors).
 */
export function repositoryRequestBody(values: RepositoryFormValues): Record<string, unknown> {
  const onBox = values.box_id !== "";
  const body: Record<string, unknown> = {
    name: values.name.trim(),
    agent_machine_id: Number(values.agent_machine_id) || 0,
    // On a box the hub derives the location (and creates and initializes the repo there).
    ...(onBox ? { box_id: Number(values.box_id) } : { location: values.location.trim() }),
    encryption: values.encryption || DEFAULT_ENCRYPTION,
    passphrase_location: values.keep_on_machine ? "agent" : "hub",
    source_paths: lines(values.source_paths),
    exclude_patterns: lines(values.exclude_patterns),
  };
  if (needsPassphraseField(values) && values.passphrase !== "") {
    body.passphrase = values.passphrase;
  }
  // Left out when empty, so the body stays what an older hub accepts.
  const optional = lines(values.optional_source_paths);
  if (optional.length > 0) body.optional_source_paths = optional;
  if (values.compression.trim()) body.compression = values.compression.trim();
  if (values.archive_name.trim()) body.archive_name = values.archive_name.trim();
  if (values.append_only) body.append_only = true;
  return body;
}

/** The command to run on the machine when it keeps the passphrase itself. */
export function agentSecretCommand(repositoryName: string): string {
  const name = repositoryName.trim() || "NAME";
  // Quote anything the shell would split or expand.
  const quoted = /^[A-Za-z0-9._@%+=:,/-]+$/.test(name)
    ? name
    : `'${name.replaceAll("'", "'\\''")}'`;
  return `borgctl agent secret set ${quoted}`;
}

export const REPOSITORY_FIELDS = [
  "name",
  "agent_machine_id",
  "box_id",
  "append_only",
  "location",
  "encryption",
  "passphrase",
  "source_paths",
  "optional_source_paths",
  "exclude_patterns",
  "compression",
  "archive_name",
] as const;
export type RepositoryField = (typeof REPOSITORY_FIELDS)[number];

/** The parts of an API failure the form needs (ApiError has them all). */
export interface ApiFailure {
  status: number;
  message: string;
  details?: unknown;
}

export interface FormErrors {
  fields: Partial<Record<RepositoryField, string>>;
  /** What belongs to no field: shown above the form. */
  general: string | null;
}

function fieldOf(name: string): RepositoryField | undefined {
  if (name === "passphrase_location") return "passphrase";
  return (REPOSITORY_FIELDS as readonly string[]).includes(name)
    ? (name as RepositoryField)
    : undefined;
}

/** Strips "field: " / "field " from the front of the hub's message. */
function withoutField(message: string, field: string): string {
  const rest = message.slice(field.length).replace(/^:\s*/, "").trim();
  return rest || message;
}

/**
 * Which field an API error belongs to. Schema failures carry `details: [{path, message}]`
 * (path "source_paths" or "source_paths.3"); the hub's own checks name the field at the
 * start of the message ("location must not start with …"); a few are known by what they
 * say (a taken name, a missing passphrase, a revoked machine).
 */
export function fieldErrors(failure: ApiFailure): FormErrors {
  const fields: FormErrors["fields"] = {};
  if (Array.isArray(failure.details)) {
    for (const detail of failure.details) {
      if (typeof detail !== "object" || detail === null) continue;
      const { path, message } = detail as { path?: unknown; message?: unknown };
      if (typeof path !== "string" || typeof message !== "string") continue;
      const field = fieldOf(path.split(".")[0] ?? "");
      if (field && !fields[field]) fields[field] = friendlyFieldMessage(path, message);
    }
    if (Object.keys(fields).length > 0) return { fields, general: null };
  }
  const message = failure.message;
  if (/needs a passphrase|takes no passphrase|do not send it to the hub/.test(message)) {
    return { fields: { passphrase: message }, general: null };
  }
  if (failure.status === 409 && /repository named/.test(message)) {
    return { fields: { name: message }, general: null };
  }
  if (/^no machine\b|^machine "/.test(message)) {
    return { fields: { agent_machine_id: message }, general: null };
  }
  const leading = /^([a-z_]+)\b/.exec(message)?.[1];
  const field = leading ? fieldOf(leading) : undefined;
  if (failure.status === 400 && field) {
    return { fields: { [field]: withoutField(message, leading as string) }, general: null };
  }
  return { fields: {}, general: message };
}

// --- prune retention -----------------------------------------------------------------

export const KEEP_COUNTS = [
  "keep_hourly",
  "keep_daily",
  "keep_weekly",
  "keep_monthly",
  "keep_yearly",
] as const;
export type KeepCount = (typeof KEEP_COUNTS)[number];

export interface RetentionValues {
  counts: Partial<Record<KeepCount, string>>;
  keep_within: string;
  dry_run: boolean;
}

export type RetentionResult =
  | { ok: true; body: Record<string, unknown>; destructive: boolean }
  | { ok: false; error: string };

/** borg's --keep-within: a number and a unit (H hours, d days, w weeks, m months, y years). */
const KEEP_WITHIN = /^[1-9]\d*[Hdwmy]$/;

/**
 * The POST /api/repositories/{id}/prune body, or what is wrong with the form. At least one
 * keep rule, because borg prune without one deletes every archive. `destructive`: it
 * really deletes (no dry run), so the page asks first.
 */
export function retentionRequestBody(values: RetentionValues): RetentionResult {
  const body: Record<string, unknown> = { dry_run: values.dry_run };
  for (const rule of KEEP_COUNTS) {
    const raw = (values.counts[rule] ?? "").trim();
    if (raw === "") continue;
    if (!/^\d+$/.test(raw)) {
      return { ok: false, error: `${rule.replace("_", " ")} must be a whole number (0 or more)` };
    }
    body[rule] = Number(raw);
  }
  const within = values.keep_within.trim();
  if (within !== "") {
    if (!KEEP_WITHIN.test(within)) {
      return {
        ok: false,
        error: 'keep within is a number and a unit: H, d, w, m or y (e.g. "7d")',
      };
    }
    body.keep_within = within;
  }
  if (Object.keys(body).length === 1) {
    return {
      ok: false,
      error: "give at least one keep rule; without one prune would delete every archive",
    };
  }
  return { ok: true, body, destructive: !values.dry_run };
}

// --- edit -------------------------------------------------------------------------------

/** What the edit form holds: the repository's current settings as text. */
export interface RepositoryEditValues {
  name: string;
  /** A new passphrase; empty keeps the stored one. */
  passphrase: string;
  source_paths: string;
  optional_source_paths: string;
  exclude_patterns: string;
  compression: string;
  archive_name: string;
}

/** The settings the edit form starts from. */
export interface EditableRepository {
  name: string;
  source_paths: string[];
  /** Absent from a hub that predates optional sources: none. */
  optional_source_paths?: string[];
  exclude_patterns: string[];
  compression: string;
  archive_name: string;
}

export function editValuesOf(repo: EditableRepository): RepositoryEditValues {
  return {
    name: repo.name,
    passphrase: "",
    source_paths: repo.source_paths.join("\n"),
    optional_source_paths: (repo.optional_source_paths ?? []).join("\n"),
    exclude_patterns: repo.exclude_patterns.join("\n"),
    compression: repo.compression,
    archive_name: repo.archive_name,
  };
}

const sameList = (a: string[], b: string[]) =>
  a.length === b.length && a.every((item, i) => item === b[i]);

/**
 * The PATCH /api/repositories/{id} body: only what differs from `original`, so an edit of
 * the sources never rewrites the name (and the audit trail names only what changed). A
 * passphrase goes only when one was typed and the hub keeps it (`passphraseOnHub`). An
 * empty body means there is nothing to save.
 */
export function repositoryUpdateBody(
  original: EditableRepository,
  values: RepositoryEditValues,
  passphraseOnHub: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const name = values.name.trim();
  if (name !== original.name) body.name = name;
  if (passphraseOnHub && values.passphrase !== "") body.passphrase = values.passphrase;
  const sources = lines(values.source_paths);
  if (!sameList(sources, original.source_paths)) body.source_paths = sources;
  const optional = lines(values.optional_source_paths);
  if (!sameList(optional, original.optional_source_paths ?? [])) {
    body.optional_source_paths = optional;
  }
  const excludes = lines(values.exclude_patterns);
  if (!sameList(excludes, original.exclude_patterns)) body.exclude_patterns = excludes;
  const compression = values.compression.trim();
  if (compression !== original.compression) body.compression = compression;
  const archiveName = values.archive_name.trim();
  if (archiveName !== original.archive_name) body.archive_name = archiveName;
  return body;
}
