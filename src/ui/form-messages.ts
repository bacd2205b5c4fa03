/**
 * What to type, instead of a schema's generic complaint: the hub's validation details
 * ("Too small: expected string to be >=1 characters" at path "name") become a sentence
 * about the field ("Give the repository a name, e.g. laptop-home"). The hub's own,
 * already specific messages (a compression hint, "must not start with -") are kept. Pure.
 */

/** Messages zod writes by itself: they name a type or a bound, not the field's meaning. */
const GENERIC = /^(too small|too big|invalid|required|expected|unrecognized)/i;

interface FieldMessages {
  /** Empty, missing or of the wrong type. */
  missing: string;
  /** Longer than allowed. */
  tooLong?: string;
  /** One line of a list field is wrong (path "field.3"). */
  item?: string;
}

const MESSAGES: Record<string, FieldMessages> = {
  name: {
    missing: "Give the repository a name, e.g. laptop-home",
    tooLong: "Use a shorter name: at most 128 characters",
  },
  agent_machine_id: { missing: "Pick the machine whose data this repository backs up" },
  location: {
    missing:
      "Give where the repository lives: a path on the machine (/srv/backups/laptop) or a borg URL (ssh://user@host/./repo)",
    tooLong: "Use a shorter location: at most 4096 characters",
  },
  passphrase: {
    missing: "Give a passphrase, and keep a copy somewhere safe: without it no backup can be read",
  },
  source_paths: {
    missing: "Give at least one folder to back up, one a line, e.g. /home",
    item: "Write one folder a line, as the machine sees it, e.g. /home",
  },
  optional_source_paths: {
    missing: "Write one folder a line, as the machine sees it, e.g. /media/usb",
    item: "Write one folder a line, as the machine sees it, e.g. /media/usb",
  },
  exclude_patterns: {
    missing: "Write one borg pattern a line, e.g. */.cache",
    item: "Write one borg pattern a line, e.g. */.cache",
  },
  compression: { missing: "Give borg's compression, e.g. lz4 or zstd,3" },
  archive_name: {
    missing: "Give an archive name template, e.g. {hostname}-{now}",
    tooLong: "Use a shorter archive name template: at most 256 characters",
  },
};

/**
 * The sentence to show for a refusal at `path` ("source_paths" or "source_paths.2").
 * A list with no entries is always "give at least one …", whatever the hub said.
 */
export function friendlyFieldMessage(path: string, message: string): string {
  const [field = "", item] = path.split(".");
  const known = MESSAGES[field];
  if (!known) return message;
  if (item === undefined && field === "source_paths" && /at least one|too small/i.test(message)) {
    return known.missing;
  }
  if (!GENERIC.test(message)) return message;
  if (item !== undefined && known.item) return known.item;
  if (/^too big/i.test(message) && known.tooLong) return known.tooLong;
  return known.missing;
}
