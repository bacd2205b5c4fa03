/**
 * Bearer credentials: random, typed by prefix (so a leaked one is recognisable and a
 * token of one kind is never accepted as another), stored only as a SHA-256 hash plus a
 * short display prefix. 32 random bytes make a hash lookup safe: nothing about the token
 * can be learned from timing a miss.
 */
import { randomBytes } from "node:crypto";

export const TOKEN_KINDS = {
  session: "borgctl_session_",
  api: "borgctl_api_",
  enroll: "borgctl_enroll_",
  agent: "borgctl_agent_",
} as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

/** Prefix length kept for display: the kind plus a few random characters. */
const DISPLAY_EXTRA = 6;

export interface NewToken {
  token: string;
  hash: string;
  prefix: string;
}

/** SHA-256 of the token's UTF-8 bytes, hex. Bun's one-shot hasher: every agent request runs it. */
export function hashToken(token: string): string {
  return Bun.SHA256.hash(token, "hex");
}

export function newToken(kind: TokenKind): NewToken {
  const token = `${TOKEN_KINDS[kind]}${randomBytes(32).toString("base64url")}`;
  return {
    token,
    hash: hashToken(token),
    prefix: token.slice(0, TOKEN_KINDS[kind].length + DISPLAY_EXTRA),
  };
}

const KIND_PREFIXES = Object.entries(TOKEN_KINDS) as [TokenKind, string][];

/** The kind a presented token claims to be, or undefined: used to reject mix-ups early. */
export function tokenKind(token: string): TokenKind | undefined {
  for (const [kind, prefix] of KIND_PREFIXES) {
    if (token.startsWith(prefix)) return kind;
  }
  return undefined;
}

/** Random public identifiers, e.g. agt_… for agents. */
export function newPublicId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}
