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

/** What Python's str.isprintable() calls unprintable: Other and Separator, except the space. */
const PYTHON_UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const PYTHON_SHORT_ESCAPES: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/**
 * The inside of Python's repr() of a str. repr quotes with ' and escapes a ' inside, unless
 * the string has a ' and no ": then it quotes with " and escapes neither. Which one applies
 * depends on the whole string printed, not on the secret within it: both are variants.
 */
function pythonRepr(text: string, escapeQuote: boolean): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === "\\") out += "\\\\";
    else if (char === "'" && escapeQuote) out += "\\'";
    else if (PYTHON_SHORT_ESCAPES[char]) out += PYTHON_SHORT_ESCAPES[char];
    else if (char !== " " && PYTHON_UNPRINTABLE.test(char)) {
      out +=
        code < 0x100
          ? `\\x${hex(code, 2)}`
          : code < 0x10000
            ? `\\u${hex(code, 4)}`
            : `\\U${hex(code, 8)}`;
    } else out += char;
  }
  return out;
}

/** The inside of Python's repr() of the UTF-8 bytes (b'...'): borg prints some values as bytes. */
function pythonBytesRepr(text: string, escapeQuote: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    if (char === "\\") out += "\\\\";
    else if (char === "'" && escapeQuote) out += "\\'";
    else if (PYTHON_SHORT_ESCAPES[char]) out += PYTHON_SHORT_ESCAPES[char];
    else if (byte < 0x20 || byte > 0x7e) out += `\\x${hex(byte, 2)}`;
    else out += char;
  }
  return out;
}

/** The inside of a JSON string: as JSON.stringify writes it, or ASCII-only (Python's json.dumps). */
function jsonString(text: string, asciiOnly: boolean): string {
  const inner = JSON.stringify(text).slice(1, -1);
  return asciiOnly ? inner.replace(/[^\x20-\x7e]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`) : inner;
}

/**
 * Percent-encoding of the UTF-8 bytes, leaving `safe` characters as they are. `plus`:
 * a space becomes "+", as in form encoding.
 */
function percentEncode(text: string, safe: RegExp, plus: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    if (plus && char === " ") out += "+";
    else if (byte < 0x80 && safe.test(char)) out += char;
    else out += `%${hex(byte, 2).toUpperCase()}`;
  }
  return out;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The forms a secret takes when a program prints it escaped or encoded, the value itself first. */
export function secretVariants(secret: string): string[] {
  const escaped = [
    secret,
    // Python repr (borg repeats paths and values this way), of the str and of its bytes.
    pythonRepr(secret, true),
    pythonRepr(secret, false),
    pythonBytesRepr(secret, true),
    pythonBytesRepr(secret, false),
    // Shell-quoted inside '…': POSIX style and Python's shlex.quote style.
    secret.replaceAll("'", "'\\''"),
    secret.replaceAll("'", `'"'"'`),
  ];
  const urlEncoded = [
    percentEncode(secret, /[A-Za-z0-9\-_.!~*'()]/, false), // encodeURIComponent
    percentEncode(secret, /[A-Za-z0-9*\-._]/, true), // URLSearchParams (form encoding)
    percentEncode(secret, /[A-Za-z0-9_.\-~/]/, false), // Python urllib.parse.quote
    percentEncode(secret, /[A-Za-z0-9_.\-~]/, true), // Python urllib.parse.quote_plus
  ];
  const variants = new Set<string>();
  for (const form of [...escaped, ...urlEncoded]) {
    variants.add(form);
    if (form !== secret && /%[0-9A-F]{2}/.test(form))
      variants.add(form.replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()));
  }
  // Each of those inside a JSON string too: a --log-json line carries borg's repr in JSON.
  for (const form of escaped) {
    variants.add(jsonString(form, false));
    variants.add(jsonString(form, true));
  }
  return [...variants];
}

/**
 * Counts registrations, so two requests using the same passphrase at once don't
 * unregister it for each other. A secret is cut out as itself and in every escaped or
 * encoded form secretVariants knows; the forms are computed once, when it is registered.
 */
export class Redactor {
  private readonly secrets = new Map<string, { count: number; variants: string[] }>();
  /** Every variant of every secret, longest first; rebuilt when the set of secrets changes. */
  private needles: string[] | undefined;
  /** Any needle at all: one regex scan decides most lines, which hold no secret. */
  private anyNeedle: RegExp | undefined;

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    const entry = this.secrets.get(secret);
    if (entry) {
      entry.count++;
      return;
    }
    this.secrets.set(secret, { count: 1, variants: secretVariants(secret) });
    this.needles = undefined;
    this.anyNeedle = undefined;
  }

  remove(secret: string | undefined | null): void {
    if (!secret) return;
    const entry = this.secrets.get(secret);
    if (entry === undefined) return;
    if (entry.count > 1) {
      entry.count--;
      return;
    }
    this.secrets.delete(secret);
    this.needles = undefined;
    this.anyNeedle = undefined;
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    this.needles ??= [...new Set([...this.secrets.values()].flatMap((e) => e.variants))].sort(
      (a, b) => b.length - a.length,
    );
    this.anyNeedle ??= new RegExp(this.needles.map(escapeRegExp).join("|"));
    if (!this.anyNeedle.test(text)) return text;
    // Every occurrence of every form, as [start, end); overlapping ones merge, so a form
    // that contains another (or overlaps it) is replaced whole, never leaving a piece.
    const spans: [number, number][] = [];
    for (const needle of this.needles) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
        spans.push([at, at + needle.length]);
      }
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = "";
    let copied = 0;
    let current: [number, number] | undefined;
    for (const span of spans) {
      if (current && span[0] < current[1]) {
        current[1] = Math.max(current[1], span[1]);
        continue;
      }
      if (current) {
        out += text.slice(copied, current[0]) + REDACTED;
        copied = current[1];
      }
      current = [span[0], span[1]];
    }
    if (current) out += text.slice(copied, current[0]) + REDACTED;
    return out + text.slice(current ? current[1] : copied);
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
