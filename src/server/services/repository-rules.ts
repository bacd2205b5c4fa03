/**
 * Pure checks on repository settings, applied at the hub so a bad value is a 400 naming
 * the field when the user enters it rather than a failed job later. The parsing itself
 * lives in shared/protocol/borg-values.ts, which the agent's borg argv builders use too:
 * the agent checks every value again before borg runs.
 */
import { AppError } from "../../shared/errors.ts";
import type { Role } from "../../shared/protocol/api.ts";
import {
  absolutePathProblem,
  archiveNameProblem,
  compressionProblem,
  parseBorgLocation,
  patternProblem,
} from "../../shared/protocol/borg-values.ts";
import { formatHostKeys, parseHostKeys } from "../../shared/ssh-host-keys.ts";
import { roleAtLeast } from "./auth.ts";

const invalid = (message: string): never => {
  throw new AppError("validation_failed", message);
};

/** A 400 in the shape zod's failures have: the field first, then why. */
const invalidField = (field: string, problem: string): never => {
  throw new AppError("validation_failed", `${field} ${problem}`, [
    { path: field, message: problem },
  ]);
};

export function checkLocation(location: string, borgVersion: 1 | 2): void {
  const parsed = parseBorgLocation(location, borgVersion);
  if (!parsed.ok) invalidField("location", parsed.reason);
}

export function checkArchiveTemplate(name: string): void {
  const problem = archiveNameProblem(name);
  if (problem) invalidField("archive_name", problem);
}

export function checkExcludePatterns(patterns: readonly string[]): void {
  patterns.forEach((pattern, i) => {
    const problem = patternProblem(pattern);
    if (problem) invalidField(`exclude_patterns.${i}`, problem);
  });
}

export function checkSourcePaths(
  paths: readonly string[],
  field: "source_paths" | "optional_source_paths" = "source_paths",
): void {
  paths.forEach((path, i) => {
    const problem = absolutePathProblem(path);
    if (problem) invalidField(`${field}.${i}`, problem);
  });
}

/**
 * Optional sources are absolute paths like the required ones, each listed once and none
 * of them also required (which would make "optional" mean nothing on that path).
 */
export function checkOptionalSourcePaths(
  optional: readonly string[],
  required: readonly string[],
): void {
  checkSourcePaths(optional, "optional_source_paths");
  const requiredSet = new Set(required);
  optional.forEach((path, i) => {
    if (requiredSet.has(path)) {
      invalidField(`optional_source_paths.${i}`, "is already a required source path");
    }
    if (optional.indexOf(path) !== i) invalidField(`optional_source_paths.${i}`, "is listed twice");
  });
}

export function checkCompression(spec: string): void {
  const problem = compressionProblem(spec);
  if (problem) invalidField("compression", problem);
}

/** Pinned host keys, parsed; returns the form the hub stores (`TYPE BASE64` per line). */
export function checkHostKeys(text: string): string {
  const parsed = parseHostKeys(text);
  if (!parsed.ok) return invalidField("ssh_host_key", parsed.reason);
  return formatHostKeys(parsed.keys);
}

/**
 * passphrase_location "hub": the hub stores the passphrase (encrypted) and hands it to the
 * agent in the claim, so an encrypted repo needs one and "none" takes none.
 * "agent": the agent keeps it (`borgctl agent secret set`); the hub must never see it.
 */
export function checkPassphraseRules(settings: {
  encryption: string;
  passphraseLocation: "hub" | "agent";
  passphrase: string | undefined;
}): void {
  const { encryption, passphraseLocation, passphrase } = settings;
  if (passphraseLocation === "agent") {
    if (passphrase !== undefined) {
      invalid(
        'passphrase_location is "agent": the agent keeps the passphrase, so do not send it to the hub',
      );
    }
    return;
  }
  if (encryption === "none") {
    if (passphrase !== undefined) invalid('encryption "none" takes no passphrase');
    return;
  }
  if (passphrase === undefined) {
    invalid(
      `encryption "${encryption}" with passphrase_location "hub" needs a passphrase (or use passphrase_location "agent")`,
    );
  }
}

/**
 * The PATCH fields an operator may change: they only shape what is written into the
 * repository an admin chose: how chunks are compressed, and what archives are called (an
 * archive name has no "/", "::" or leading "-", so it cannot reach another repository or
 * become an option), and when it counts as overdue. Every other field is admin only: source_paths and exclude_patterns
 * decide what root reads on the machine; ssh_host_key (and location, should PATCH ever
 * take it) which server is trusted with the data; passphrase the key that opens it; name
 * which passphrase an agent uses (agents look their own passphrases up by repository
 * name). An allow-list, so a field added to UpdateRepositoryRequest later is admin only
 * until someone decides otherwise.
 */
const OPERATOR_PATCH_FIELDS: ReadonlySet<string> = new Set([
  "compression",
  "archive_name",
  // When a repository counts as overdue: alerting only, nothing borg reads.
  "expected_interval_seconds",
  "overdue_factor",
]);

/** 403 naming every field of `body` the principal's role may not change. */
export function assertMayPatch(role: Role, body: object): void {
  if (roleAtLeast(role, "admin")) return;
  const adminOnly = Object.keys(body)
    .filter((field) => !OPERATOR_PATCH_FIELDS.has(field))
    .sort();
  if (adminOnly.length === 0) return;
  throw new AppError(
    "forbidden",
    `changing ${adminOnly.join(", ")} needs the admin role; you are ${role} (you may change ${[...OPERATOR_PATCH_FIELDS].join(", ")})`,
    adminOnly.map((field) => ({ path: field, message: "only an admin may change this" })),
  );
}
