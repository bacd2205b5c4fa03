/**
 * Logging for every role: consola for levels and reporters, one line per event,
 * and a Redactor that every line passes through so a registered secret (token,
 * passphrase, key) never reaches a log, whatever code path tried to print it.
 *
 * Nothing here reads the environment at import: createLogger takes what it needs.
 */
import { type ConsolaInstance, createConsola, type LogObject } from "consola/core";

export const REDACTED = "[redacted]";

/** Secrets shorter than this are not registered: replacing "a" everywhere helps no one. */
const MIN_SECRET_LENGTH = 4;

/**
 * Counts registrations, so two requests using the same passphrase at once don't
 * unregister it for each other.
 */
export class Redactor {
  private readonly secrets = new Map<string, number>();

  add(secret: string | undefined | null): void {
    if (secret && secret.length >= MIN_SECRET_LENGTH) {
      this.secrets.set(secret, (this.secrets.get(secret) ?? 0) + 1);
    }
  }

  remove(secret: string | undefined | null): void {
    if (!secret) return;
    const count = this.secrets.get(secret);
    if (count === undefined) return;
    if (count <= 1) this.secrets.delete(secret);
    else this.secrets.set(secret, count - 1);
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    // Longest first, so a secret that contains another is replaced whole.
    const ordered = [...this.secrets.keys()].sort((a, b) => b.length - a.length);
    let out = text;
    for (const secret of ordered) out = out.replaceAll(secret, REDACTED);
    return out;
  }
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `tag` (e.g. "box", "http"). */
  child(tag: string): Logger;
  readonly redactor: Redactor;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Colour the level names. Pass false when NO_COLOR is set or the output is not a TTY. */
  color?: boolean;
  redactor?: Redactor;
  /** Where finished lines go; stderr by default, so stdout stays for command output. */
  write?: (line: string) => void;
  tag?: string;
}

const CONSOLA_LEVEL: Record<LogLevel, number> = {
  silent: -999,
  error: 0,
  warn: 1,
  info: 3,
  debug: 4,
};

const LEVEL_COLOR: Record<string, string> = {
  error: "\x1b[31m",
  warn: "\x1b[33m",
  info: "\x1b[36m",
  debug: "\x1b[90m",
};

/** Decides colour from the environment the way every CLI should: NO_COLOR wins. */
export function colorWanted(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return isTTY;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

export function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${renderValue(value)}`);
  }
  return parts.length ? ` ${parts.join(" ")}` : "";
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const redactor = options.redactor ?? new Redactor();
  const color = options.color ?? false;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const consola: ConsolaInstance = createConsola({
    level: CONSOLA_LEVEL[options.level ?? "info"],
    reporters: [
      {
        log(logObj: LogObject) {
          const [message, fields] = logObj.args as [string, LogFields | undefined];
          const type = logObj.type === "log" ? "info" : logObj.type;
          const name = color ? `${LEVEL_COLOR[type] ?? ""}${type}\x1b[0m` : type;
          const tag = logObj.tag ? ` [${logObj.tag}]` : "";
          const line = `${logObj.date.toISOString()} ${name}${tag} ${message}${formatFields(fields)}`;
          write(redactor.redact(line));
        },
      },
    ],
  });
  return wrap(options.tag ? consola.withTag(options.tag) : consola, redactor);
}

function wrap(consola: ConsolaInstance, redactor: Redactor): Logger {
  return {
    debug: (message, fields) => consola.debug(message, fields),
    info: (message, fields) => consola.info(message, fields),
    warn: (message, fields) => consola.warn(message, fields),
    error: (message, fields) => consola.error(message, fields),
    child: (tag) => wrap(consola.withTag(tag), redactor),
    redactor,
  };
}
