/**
 * The secret key's check value: a known text sealed with the hub's secret key, stored in
 * the database at first start. Every later start (any replica, either store) opens it:
 * a hub started with another BORGCTL_SECRET_KEY than the one the database's encrypted
 * passphrases were written with refuses to start, saying so, instead of failing later on
 * every passphrase.
 */
import type { Store } from "./store.ts";

export const SECRET_KEY_CHECK = "secret_key_check";
const CHECK_TEXT = "borgctl secret key check v1";

export interface Sealer {
  encrypt(plaintext: string): string;
  decrypt(sealed: string): string;
}

export class SecretKeyMismatchError extends Error {
  override readonly name = "SecretKeyMismatchError";
  constructor() {
    super(
      "the secret key differs from the one this database was first started with: its encrypted " +
        "passphrases cannot be read with it. Start every hub on this database with the same " +
        "BORGCTL_SECRET_KEY (or secret.key file) as the first one.",
    );
  }
}

/** Stores the check value at first start; throws SecretKeyMismatchError when it does not open. */
export async function verifySecretKey(store: Store, sealer: Sealer, now: number): Promise<void> {
  const stored =
    (await store.settings.get(SECRET_KEY_CHECK)) ??
    (await store.settings.putIfAbsent(SECRET_KEY_CHECK, sealer.encrypt(CHECK_TEXT), now));
  let opened: string | undefined;
  try {
    opened = sealer.decrypt(stored);
  } catch {
    opened = undefined;
  }
  if (opened !== CHECK_TEXT) throw new SecretKeyMismatchError();
}
