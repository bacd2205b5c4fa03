/**
 * Pure checks on repository settings, applied at the hub so a bad value is a 400 when
 * the user enters it rather than a failed job later. They mirror what the agent's borg
 * argv builders refuse (src/borg/commands/common.ts), which the hub may not import.
 */
import { AppError } from "../../shared/errors.ts";

// C0 controls and DEL: a newline or NUL in a borg argument is never meant.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const invalid = (message: string): never => {
  throw new AppError("validation_failed", message);
};

export function checkLocation(location: string, borgVersion: 1 | 2): void {
  if (CONTROL_CHARS.test(location)) invalid("location contains a control character");
  // A leading "-" would be read by borg as an option.
  if (location.startsWith("-")) invalid(`location must not start with "-"`);
  // borg 1 splits REPO::ARCHIVE at "::".
  if (borgVersion === 1 && location.includes("::")) invalid(`location must not contain "::"`);
}

export function checkArchiveTemplate(name: string): void {
  if (CONTROL_CHARS.test(name)) invalid("archive_name contains a control character");
  if (name.includes("/")) invalid(`archive_name must not contain "/"`);
  if (name.startsWith("-")) invalid(`archive_name must not start with "-"`);
}

export function checkExcludePatterns(patterns: readonly string[]): void {
  if (patterns.some((p) => CONTROL_CHARS.test(p))) {
    invalid("exclude_patterns: a pattern contains a control character");
  }
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
