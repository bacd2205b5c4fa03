/**
 * Parses and validates one OpenSSH public key line (`TYPE BASE64 [COMMENT]`) submitted by a
 * user or an agent. Nothing here passes the input through: callers re-render the key from
 * the parsed `type` and `base64`, so a key that passes cannot smuggle options, extra lines
 * or a hostile comment into an authorized_keys file. Pure: no I/O.
 *
 * The blob is walked field by field (SSH wire format, RFC 4251 §5: uint32 length + bytes)
 * so that a mislabelled, truncated or padded blob is refused here with a message that says
 * the fix, rather than later by sshd with a silent login failure.
 */
import { createHash, createPublicKey } from "node:crypto";

export const SSH_KEY_TYPES: readonly string[] = [
  "ssh-ed25519",
  "sk-ssh-ed25519@openssh.com",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ecdsa-sha2-nistp256@openssh.com",
  "ssh-rsa",
];

export interface ParsedSshKey {
  type: string;
  base64: string;
  /** The user's comment reduced to `[A-Za-z0-9@._+-]`, at most 64 chars; may be "". */
  comment: string;
  /** RSA modulus bits; only set for ssh-rsa. */
  bits?: number;
  /** "SHA256:<base64 without padding>", the same string `ssh-keygen -lf` prints. */
  fingerprint: string;
}

export type SshKeyResult = { ok: true; key: ParsedSshKey } | { ok: false; reason: string };

export const MAX_SSH_KEY_INPUT_LENGTH = 16 * 1024;
const MAX_COMMENT_LENGTH = 64;
const MIN_RSA_BITS = 2048;
// OpenSSH refuses larger moduli (OPENSSH_RSA_MAX_MODULUS_SIZE).
const MAX_RSA_BITS = 16384;
const GENERATE_HINT = "generate one with: ssh-keygen -t ed25519";

/** Options sshd accepts before the key type; named so the refusal can say what happened. */
const OPTION_KEYWORDS = new Set([
  "agent-forwarding",
  "cert-authority",
  "command",
  "environment",
  "expiry-time",
  "from",
  "no-agent-forwarding",
  "no-port-forwarding",
  "no-pty",
  "no-touch-required",
  "no-user-rc",
  "no-x11-forwarding",
  "permitlisten",
  "permitopen",
  "port-forwarding",
  "principals",
  "pty",
  "restrict",
  "tunnel",
  "user-rc",
  "verify-required",
  "x11-forwarding",
]);

/** Uncompressed point sizes (0x04 || X || Y) and JWK curve names per OpenSSH curve. */
const CURVES: Record<string, { pointLength: number; jwkCurve: string }> = {
  nistp256: { pointLength: 65, jwkCurve: "P-256" },
  nistp384: { pointLength: 97, jwkCurve: "P-384" },
  nistp521: { pointLength: 133, jwkCurve: "P-521" },
};

const refuse = (reason: string): SshKeyResult => ({ ok: false, reason });

export function parseSshPublicKey(input: string): SshKeyResult {
  if (input.length > MAX_SSH_KEY_INPUT_LENGTH) {
    return refuse(
      `the key is too long (over ${MAX_SSH_KEY_INPUT_LENGTH} characters); paste only the .pub file's one line`,
    );
  }
  const line = input.endsWith("\n") ? input.slice(0, -1) : input;
  if (line.includes("\n")) {
    return refuse("the key must be a single line; paste only one key from the .pub file");
  }
  if (line.includes("\r")) {
    return refuse(
      "the key contains a carriage return (\\r); paste the .pub file's line without Windows line endings",
    );
  }
  if (line.includes("\0")) {
    return refuse("the key contains a NUL byte; paste the .pub file's text");
  }
  if (!/^[\x20-\x7e]*$/.test(line)) {
    return refuse(
      "the key must be printable ASCII only (no tabs, control or non-ASCII characters); paste the .pub file's text",
    );
  }
  const tokens = line.trim().split(/ +/);
  const [type = "", base64 = "", ...commentWords] = tokens;
  if (type === "") {
    return refuse(`the key is empty; paste the contents of your .pub file (${GENERATE_HINT})`);
  }
  if (!SSH_KEY_TYPES.includes(type)) {
    return refuse(describeUnknownFirstToken(type, tokens));
  }
  if (base64 === "") {
    return refuse(
      `the key has no base64 data after "${type}"; paste the whole line from the .pub file`,
    );
  }
  const blob = decodeStrictBase64(base64);
  if (blob === undefined) {
    return refuse(
      "the key's base64 data is malformed; paste the line from the .pub file unchanged",
    );
  }
  const structure = checkBlob(type, blob);
  if (!structure.ok) return refuse(structure.reason);

  const key: ParsedSshKey = {
    type,
    base64,
    comment: sanitizeComment(commentWords.join(" ")),
    fingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
  };
  if (structure.bits !== undefined) key.bits = structure.bits;
  return { ok: true, key };
}

function describeUnknownFirstToken(first: string, tokens: string[]): string {
  const optionName = first.split(/[=,]/, 1)[0] ?? "";
  const looksLikeOptions =
    first.includes("=") ||
    first.includes(",") ||
    OPTION_KEYWORDS.has(optionName) ||
    tokens.slice(1).some((t) => SSH_KEY_TYPES.includes(t));
  if (looksLikeOptions) {
    return "options are not allowed before the key (e.g. command=, restrict); submit only the plain public key line from the .pub file";
  }
  if (first === "ssh-dss") {
    return `DSA keys are not supported; ${GENERATE_HINT}`;
  }
  if (first.includes("-cert-v01@openssh.com")) {
    return `certificates are not supported; submit the plain public key (${GENERATE_HINT})`;
  }
  const shown = first.length > 40 ? `${first.slice(0, 40)}…` : first;
  return `unknown key type "${shown}"; supported: ${SSH_KEY_TYPES.join(", ")} (${GENERATE_HINT})`;
}

/** Decodes base64 only when re-encoding gives back exactly the same text (no lenient decoding). */
function decodeStrictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  if (bytes.length === 0 || bytes.toString("base64") !== text) return undefined;
  return bytes;
}

function sanitizeComment(comment: string): string {
  return comment.replace(/[^A-Za-z0-9@._+-]/g, "").slice(0, MAX_COMMENT_LENGTH);
}

/**
 * Thrown inside the blob walk only; turned into a refusal reason before leaving this module.
 * Most messages describe damage, and get the "paste it unchanged" fix appended; `saysFix`
 * marks messages that already carry their own fix.
 */
class BlobError extends Error {
  constructor(
    message: string,
    readonly saysFix = false,
  ) {
    super(message);
  }
}

/** Sequential reader over SSH wire-format fields. */
class BlobReader {
  private offset = 0;
  constructor(private readonly blob: Buffer) {}

  string(field: string): Buffer {
    if (this.offset + 4 > this.blob.length)
      throw new BlobError(`the key data is truncated (missing ${field})`);
    const length = this.blob.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (length > this.blob.length - start)
      throw new BlobError(`the key data is truncated (${field} is cut short)`);
    this.offset = start + length;
    return this.blob.subarray(start, this.offset);
  }

  /** A positive mpint (RFC 4251): big-endian two's complement, so a set top bit means negative. */
  positiveMpint(field: string): Buffer {
    const bytes = this.string(field);
    if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80)
      throw new BlobError(`the key's ${field} is not a positive number`);
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    if (start === bytes.length) throw new BlobError(`the key's ${field} is zero`);
    return bytes.subarray(start);
  }

  end(): void {
    if (this.offset !== this.blob.length)
      throw new BlobError("the key data has unexpected trailing bytes");
  }
}

type BlobCheck = { ok: true; bits?: number } | { ok: false; reason: string };

function checkBlob(type: string, blob: Buffer): BlobCheck {
  const reader = new BlobReader(blob);
  try {
    const innerType = reader.string("key type").toString("latin1");
    if (innerType !== type) {
      const shown = /^[\x20-\x7e]{1,60}$/.test(innerType) ? `"${innerType}"` : "something else";
      return {
        ok: false,
        reason: `the key is labelled "${type}" but its data is ${shown}; paste the line from the .pub file unchanged`,
      };
    }
    let bits: number | undefined;
    switch (type) {
      case "ssh-ed25519":
      case "sk-ssh-ed25519@openssh.com":
        if (reader.string("ed25519 public key").length !== 32) {
          throw new BlobError("the ed25519 public key is not 32 bytes");
        }
        break;
      case "ecdsa-sha2-nistp256":
      case "ecdsa-sha2-nistp384":
      case "ecdsa-sha2-nistp521":
      case "sk-ecdsa-sha2-nistp256@openssh.com":
        checkEcdsaPoint(type, reader);
        break;
      case "ssh-rsa":
        bits = checkRsa(reader);
        break;
    }
    if (type.startsWith("sk-")) {
      // Security keys append the FIDO application string, normally "ssh:...".
      if (reader.string("security key application").length === 0) {
        throw new BlobError("the security key's application string is empty");
      }
    }
    reader.end();
    return bits === undefined ? { ok: true } : { ok: true, bits };
  } catch (e) {
    if (!(e instanceof BlobError)) throw e;
    if (e.saysFix) return { ok: false, reason: e.message };
    return { ok: false, reason: `${e.message}; paste the line from the .pub file unchanged` };
  }
}

function checkEcdsaPoint(type: string, reader: BlobReader): void {
  const expectedCurve = /nistp\d+/.exec(type)?.[0] ?? "";
  const curveName = reader.string("curve name").toString("latin1");
  if (curveName !== expectedCurve) {
    throw new BlobError(
      `the key is labelled ${expectedCurve} but its curve field says something else`,
    );
  }
  const curve = CURVES[expectedCurve];
  if (curve === undefined) throw new BlobError(`unsupported curve ${expectedCurve}`);
  const point = reader.string("curve point");
  if (point.length !== curve.pointLength || point[0] !== 0x04) {
    throw new BlobError(`the ${expectedCurve} public point is malformed`);
  }
  // Importing as JWK makes OpenSSL check that the point lies on the curve.
  const coordinateLength = (curve.pointLength - 1) / 2;
  try {
    createPublicKey({
      key: {
        kty: "EC",
        crv: curve.jwkCurve,
        x: point.subarray(1, 1 + coordinateLength).toString("base64url"),
        y: point.subarray(1 + coordinateLength).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    throw new BlobError(`the ${expectedCurve} public point is not on the curve`);
  }
}

function checkRsa(reader: BlobReader): number {
  const exponent = reader.positiveMpint("RSA exponent");
  const modulus = reader.positiveMpint("RSA modulus");
  // OpenSSH refuses e < 3 and even e; a valid RSA key has an odd exponent.
  if (
    ((exponent[exponent.length - 1] ?? 0) & 1) === 0 ||
    (exponent.length === 1 && (exponent[0] ?? 0) < 3)
  ) {
    throw new BlobError("the RSA exponent is invalid");
  }
  const bits = (modulus.length - 1) * 8 + bitLength(modulus[0] ?? 0);
  if (bits < MIN_RSA_BITS) {
    throw new BlobError(
      `RSA keys must be at least ${MIN_RSA_BITS} bits (this one has ${bits}); ${GENERATE_HINT}`,
      true,
    );
  }
  if (bits > MAX_RSA_BITS) {
    throw new BlobError(
      `RSA keys must be at most ${MAX_RSA_BITS} bits (this one has ${bits}); ${GENERATE_HINT}`,
      true,
    );
  }
  return bits;
}

function bitLength(byte: number): number {
  let bits = 0;
  for (let b = byte; b > 0; b >>= 1) bits++;
  return bits;
}
