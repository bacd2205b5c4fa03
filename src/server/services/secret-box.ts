/**
 * Encryption at rest for repository passphrases: AES-256-GCM with a random 96-bit IV per
 * value and a fixed associated-data label. The key is 32 bytes from BORGCTL_SECRET_KEY
 * (base64 or hex) or from `<data dir>/secret.key`, created 0600 on first start. Losing
 * the key makes stored passphrases unreadable (the repos themselves are not affected:
 * re-enter the passphrase), so the README says to back it up.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { AppError } from "../../shared/errors.ts";

const VERSION = "v1";
const AAD = Buffer.from("borgctl repository passphrase v1");

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error("the secret key must be 32 bytes");
    return new SecretBox(key);
  }

  /** BORGCTL_SECRET_KEY: 32 bytes as base64 (44 chars) or hex (64 chars). */
  static fromText(text: string): SecretBox {
    const trimmed = text.trim();
    const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? Buffer.from(trimmed, "hex")
      : Buffer.from(trimmed, "base64");
    if (key.length !== 32) {
      throw new AppError(
        "validation_failed",
        "secret key must be 32 bytes, as 64 hex or 44 base64 characters",
      );
    }
    return new SecretBox(key);
  }

  /**
   * Reads the key file, creating it (0600) on first start. The key is written to a temp
   * file and hard-linked into place, so a second hub starting at the same moment sees
   * either no file or the whole key, never an empty one.
   */
  static fromFile(path: string): SecretBox {
    if (!existsSync(path)) {
      const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
      writeFileSync(temp, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
      try {
        linkSync(temp, path);
      } catch (error) {
        // Another hub process created it first: use theirs.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      } finally {
        unlinkSync(temp);
      }
    }
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, 0o600);
    return SecretBox.fromText(readFileSync(path, "utf8"));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64")}`;
  }

  decrypt(sealed: string): string {
    const [version, data] = sealed.split(":", 2);
    if (version !== VERSION || !data)
      throw new AppError("internal", "stored secret has an unknown format");
    const raw = Buffer.from(data, "base64");
    const iv = raw.subarray(0, 12);
    const tag = raw.subarray(raw.length - 16);
    const body = raw.subarray(12, raw.length - 16);
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      throw new AppError(
        "internal",
        "a stored passphrase cannot be decrypted with this hub's secret key",
      );
    }
  }
}
