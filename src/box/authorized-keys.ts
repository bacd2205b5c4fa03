/**
 * The box's lines in one authorized_keys file: rendering them, finding them by their
 * `# borgbox:<name>` tag, and rewriting the file safely.
 *
 * Line format (borgbox's, see BORG.md "authorized_keys lines for a box"):
 *   command="borg serve --restrict-to-repository /ROOT/NAME[ --append-only]",restrict TYPE BASE64 # borgbox:NAME
 * A line is owned by the box when it is not a comment and ends with the exact tag (trailing
 * spaces and a CR tolerated), so `# borgbox:mac` never matches `# borgbox:mac2` and a tag
 * elsewhere in a line means nothing. Every other byte of the file belongs to the admin and
 * is kept as it was: comments, blank lines, CRLF endings, a missing final newline, and
 * non-UTF-8 bytes (the file is handled as latin1, one char per byte, so it round-trips).
 *
 * Lent lines (borgctl's addition, invisible to borgbox clients, which only know the tag
 * above): `... TYPE BASE64 # borgbox-lent:NAME:TAG`, the same restriction as the repo's own
 * line, one per key the hub lends for a job. sshd uses the FIRST line whose key matches,
 * so a key that already has any line in the file (another repo's, an admin's) is refused:
 * lending it would silently open the other repo instead, or nothing.
 *
 * Writes: under withFileLock (`<path>.lock`, in-process and cross-process), re-read the
 * file, compute the new content, write it to `.<basename>.tmp-<random>` in the same
 * directory with mode 0600, fsync, rename over the original, fsync the directory. A
 * failure leaves the original untouched and removes the temp file. A mutation that would
 * not change anything does not write at all.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../shared/errors.ts";
import { LENT_KEY_TAG_RE } from "../shared/protocol/box.ts";
import { type ParsedSshKey, SSH_KEY_TYPES } from "../shared/ssh-key.ts";
import { withFileLock } from "./file-lock.ts";
import { REPO_NAME_RE } from "./repo-names.ts";

export interface OwnedLine {
  /** 0-based line number (as in `content.split("\n")`). */
  index: number;
  /** The line without its terminator ("\n" or "\r\n"). */
  line: string;
  appendOnly: boolean;
  /** Key type and base64 found on the line; "" when the line has been hand-edited beyond recognition. */
  type: string;
  base64: string;
}

const TAG_PREFIX = "# borgbox:";
/** The tag at the very end of a line, preceded by whitespace; the capture is the name. */
const TAG_AT_END = /\s# borgbox:(\S+)[ \t]*$/;
const LENT_PREFIX = "# borgbox-lent:";
const LENT_AT_END = /\s# borgbox-lent:([a-z0-9-]+):([a-z0-9-]+)[ \t]*$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Absolute and normalised (no `..` to climb out of the root); no quote or backslash (they
 * would end or escape command="..."), no whitespace (borg would read two arguments), no
 * control chars (a newline would start a new key line).
 */
function isSafeRepoPath(repoPath: string): boolean {
  if (!path.isAbsolute(repoPath) || path.posix.normalize(repoPath) !== repoPath) return false;
  if (/["\\\s]/.test(repoPath)) return false;
  for (let i = 0; i < repoPath.length; i++) {
    const code = repoPath.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

export function renderKeyLine(opts: {
  repoPath: string;
  name: string;
  key: ParsedSshKey;
  appendOnly: boolean;
}): string {
  const { repoPath, name, key, appendOnly } = opts;
  // Callers validated all of this already; a mistake here would write a key line that
  // grants more than one repo, so check again.
  if (!isSafeRepoPath(repoPath)) {
    throw new Error(
      `refusing to render a key line for an unsafe repo path: ${JSON.stringify(repoPath)}`,
    );
  }
  if (!REPO_NAME_RE.test(name)) {
    throw new Error(
      `refusing to render a key line for an invalid repo name: ${JSON.stringify(name)}`,
    );
  }
  if (!SSH_KEY_TYPES.includes(key.type) || !BASE64_RE.test(key.base64)) {
    throw new Error(
      "refusing to render a key line for a key that was not parsed by parseSshPublicKey",
    );
  }
  const command = `borg serve --restrict-to-repository ${repoPath}${appendOnly ? " --append-only" : ""}`;
  return `command="${command}",restrict ${key.type} ${key.base64} ${TAG_PREFIX}${name}`;
}

/** A lent key's line: the repo's restriction, its own tag. Checked like renderKeyLine. */
export function renderLentKeyLine(opts: {
  repoPath: string;
  name: string;
  tag: string;
  key: ParsedSshKey;
  appendOnly: boolean;
}): string {
  if (!LENT_KEY_TAG_RE.test(opts.tag)) {
    throw new Error(
      `refusing to render a lent key line for an invalid tag: ${JSON.stringify(opts.tag)}`,
    );
  }
  const line = renderKeyLine(opts);
  return `${line.slice(0, line.lastIndexOf(TAG_PREFIX))}${LENT_PREFIX}${opts.name}:${opts.tag}`;
}

function lentOf(line: string): { name: string; tag: string } | undefined {
  if (line.trimStart().startsWith("#")) return undefined;
  const match = LENT_AT_END.exec(line);
  return match ? { name: match[1] ?? "", tag: match[2] ?? "" } : undefined;
}

/** How the lines that hold this key are tagged ("" for a line the box does not own). */
export function holdersOfKey(content: string, base64: string): string[] {
  const holders: string[] = [];
  for (const segment of splitLines(content)) {
    const line = lineText(segment);
    if (line.trimStart().startsWith("#") || describeLine(line).base64 !== base64) continue;
    const lent = lentOf(line);
    holders.push(lent ? `${lent.name}:${lent.tag}` : (ownerOf(line) ?? ""));
  }
  return holders;
}

/** The tags of the keys lent for repo `name`. */
export function listLentTags(content: string, name: string): string[] {
  const tags: string[] = [];
  for (const segment of splitLines(content)) {
    const lent = lentOf(lineText(segment));
    if (lent?.name === name) tags.push(lent.tag);
  }
  return tags;
}

export function findOwnedLine(content: string, name: string): OwnedLine | undefined {
  const segments = splitLines(content);
  for (let index = 0; index < segments.length; index++) {
    const line = lineText(segments[index] ?? "");
    if (ownerOf(line) === name) return { index, line, ...describeLine(line) };
  }
  return undefined;
}

export function listOwnedNames(content: string): Map<string, { appendOnly: boolean }> {
  const owned = new Map<string, { appendOnly: boolean }>();
  for (const segment of splitLines(content)) {
    const line = lineText(segment);
    const name = ownerOf(line);
    // First line wins, as in findOwnedLine.
    if (name !== undefined && !owned.has(name)) {
      owned.set(name, { appendOnly: describeLine(line).appendOnly });
    }
  }
  return owned;
}

/** The file's lines, each with its own terminator; the last may have none. "" → []. */
function splitLines(content: string): string[] {
  const segments: string[] = [];
  let start = 0;
  while (start < content.length) {
    const newline = content.indexOf("\n", start);
    if (newline === -1) {
      segments.push(content.slice(start));
      break;
    }
    segments.push(content.slice(start, newline + 1));
    start = newline + 1;
  }
  return segments;
}

function terminatorOf(segment: string): string {
  if (segment.endsWith("\r\n")) return "\r\n";
  return segment.endsWith("\n") ? "\n" : "";
}

function lineText(segment: string): string {
  return segment.slice(0, segment.length - terminatorOf(segment).length);
}

function ownerOf(line: string): string | undefined {
  // A commented-out key line is the admin's note, not a key the box manages.
  if (line.trimStart().startsWith("#")) return undefined;
  return TAG_AT_END.exec(line)?.[1];
}

function describeLine(line: string): { appendOnly: boolean; type: string; base64: string } {
  const command = /^command="([^"]*)"/.exec(line)?.[1] ?? "";
  const appendOnly = command.split(" ").includes("--append-only");
  const tokens = line.split(/\s+/);
  const typeIndex = tokens.findIndex((t) => SSH_KEY_TYPES.includes(t));
  if (typeIndex === -1) return { appendOnly, type: "", base64: "" };
  return { appendOnly, type: tokens[typeIndex] ?? "", base64: tokens[typeIndex + 1] ?? "" };
}

/**
 * Refuses lines that would break the file or could never be found again by their tag, and
 * turns the line into the file's representation: its UTF-8 bytes, one latin1 char each.
 */
function toStoredText(name: string, line: string): string {
  if (/[\r\n\0]/.test(line) || ownerOf(line) !== name) {
    throw new Error(`line for "${name}" must be one line ending with ${TAG_PREFIX}${name}`);
  }
  return Buffer.from(line, "utf8").toString("latin1");
}

export class AuthorizedKeysFile {
  constructor(private readonly path: string) {}

  /** The file's content as latin1 (byte-exact round trip); "" when the file doesn't exist. */
  async read(): Promise<string> {
    try {
      return await readFile(this.path, "latin1");
    } catch (e) {
      if (errorCode(e) === "ENOENT") return "";
      throw e;
    }
  }

  /** Adds the line for `name`. Throws AppError("conflict") if `name` already has a line. */
  async add(name: string, line: string): Promise<void> {
    const stored = toStoredText(name, line);
    await this.mutate((content) => {
      if (findOwnedLine(content, name) !== undefined) {
        throw new AppError("conflict", `repo "${name}" already has a key registered`);
      }
      return appendLine(content, stored);
    });
  }

  /**
   * Adds a lent key line for repo `name` under `tag`. The same key under the same tag is a
   * no-op (a retried lend); the key on any other line is a conflict that names it, since
   * sshd would pick that line first.
   */
  async addLent(name: string, tag: string, base64: string, line: string): Promise<void> {
    if (/[\r\n\0]/.test(line) || lentOf(line)?.name !== name || lentOf(line)?.tag !== tag) {
      throw new Error(`lent line must be one line ending with ${LENT_PREFIX}${name}:${tag}`);
    }
    const stored = Buffer.from(line, "utf8").toString("latin1");
    await this.mutate((content) => {
      const holders = holdersOfKey(content, base64);
      if (holders.length === 1 && holders[0] === `${name}:${tag}`) return undefined;
      if (holders.length > 0) {
        const holder = holders[0];
        throw new AppError(
          "conflict",
          holder === ""
            ? "this key already has a line in authorized_keys that the box does not manage; sshd would use that line, so it cannot be lent"
            : holder?.includes(":")
              ? `this key is already lent (${holder}); wait for that job to end`
              : `this key already opens repo "${holder}" on this box, and sshd uses the first line that holds a key; it cannot be lent for another repo`,
        );
      }
      if (listLentTags(content, name).includes(tag)) {
        throw new AppError("conflict", `repo "${name}" already has a key lent under tag "${tag}"`);
      }
      return appendLine(content, stored);
    });
  }

  /**
   * Re-renders every lent line of repo `name` (after its append-only changed, so a lent
   * key never has more rights than the repo's own). A hand-mangled lent line is removed.
   */
  async rerenderLent(
    name: string,
    render: (tag: string, key: { type: string; base64: string }) => string,
  ): Promise<void> {
    await this.mutate((content) => {
      const next: string[] = [];
      for (const segment of splitLines(content)) {
        const text = lineText(segment);
        const lent = lentOf(text);
        if (lent?.name !== name) {
          next.push(segment);
          continue;
        }
        const { type, base64 } = describeLine(text);
        if (!type || !base64) continue;
        const line = render(lent.tag, { type, base64 });
        next.push(`${Buffer.from(line, "utf8").toString("latin1")}${terminatorOf(segment)}`);
      }
      return next.join("");
    });
  }

  /** Removes the lent line(s) of repo `name` under `tag` (or all lent lines with no tag). */
  async removeLent(name: string, tag?: string): Promise<boolean> {
    let removed = false;
    await this.mutate((content) => {
      const segments = splitLines(content);
      const kept = segments.filter((segment) => {
        const lent = lentOf(lineText(segment));
        return !(lent?.name === name && (tag === undefined || lent.tag === tag));
      });
      removed = kept.length !== segments.length;
      return removed ? kept.join("") : undefined;
    });
    return removed;
  }

  /**
   * Removes the line for `name` (every copy, should someone have duplicated it by hand, so
   * no copy keeps access); returns whether one was removed.
   */
  async remove(name: string): Promise<boolean> {
    let removed = false;
    await this.mutate((content) => {
      const segments = splitLines(content);
      const kept = segments.filter((segment) => ownerOf(lineText(segment)) !== name);
      removed = kept.length !== segments.length;
      return removed ? kept.join("") : undefined;
    });
    return removed;
  }

  /**
   * Replaces the line for `name` (e.g. toggling append-only), keeping its line ending;
   * hand-made duplicates are dropped. Throws AppError("not_found") when absent.
   */
  async replace(name: string, line: string): Promise<void> {
    const stored = toStoredText(name, line);
    await this.mutate((content) => {
      const segments = splitLines(content);
      let replaced = false;
      const next: string[] = [];
      for (const segment of segments) {
        if (ownerOf(lineText(segment)) !== name) {
          next.push(segment);
        } else if (!replaced) {
          next.push(`${stored}${terminatorOf(segment)}`);
          replaced = true;
        }
      }
      if (!replaced) throw new AppError("not_found", `repo "${name}" has no key registered`);
      return next.join("");
    });
  }

  async owned(): Promise<Map<string, { appendOnly: boolean }>> {
    return listOwnedNames(await this.read());
  }

  /**
   * Runs `change` on the current content under the lock and writes its result; `undefined`
   * or unchanged content means no write. Errors thrown by `change` propagate untouched.
   */
  private async mutate(change: (content: string) => string | undefined): Promise<void> {
    await mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    await withFileLock(`${this.path}.lock`, async () => {
      const content = await this.read();
      const next = change(content);
      if (next === undefined || next === content) return;
      await writeFileAtomically(await resolveWriteTarget(this.path), next);
    });
  }
}

/**
 * Appends one line following the file's own line ending (that of its last terminated
 * line); a last line without one gets a separator first, and no other existing byte changes.
 */
function appendLine(content: string, stored: string): string {
  if (content === "") return `${stored}\n`;
  const lastNewline = content.lastIndexOf("\n");
  const eol = lastNewline > 0 && content[lastNewline - 1] === "\r" ? "\r\n" : "\n";
  const separator = content.endsWith("\n") ? "" : eol;
  return `${content}${separator}${stored}${eol}`;
}

/** A symlinked authorized_keys is rewritten where it points, so the link survives. */
async function resolveWriteTarget(filePath: string): Promise<string> {
  try {
    return await realpath(filePath);
  } catch (e) {
    if (errorCode(e) === "ENOENT") return filePath;
    throw e;
  }
}

async function writeFileAtomically(target: string, content: string): Promise<void> {
  const directory = path.dirname(target);
  const tempPath = path.join(
    directory,
    `.${path.basename(target)}.tmp-${randomBytes(8).toString("hex")}`,
  );
  const existing = await stat(target).catch(() => undefined);
  let renamed = false;
  try {
    const handle = await open(tempPath, "wx", 0o600);
    try {
      // Explicit, so a permissive umask or inherited ACL can't widen it: sshd's StrictModes
      // refuses a group/world-writable authorized_keys.
      await handle.chmod(0o600);
      // A root-run box rewriting the borg user's file keeps that user as owner.
      if (existing !== undefined && process.getuid?.() === 0 && existing.uid !== 0) {
        await handle.chown(existing.uid, existing.gid);
      }
      await handle.writeFile(Buffer.from(content, "latin1"));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, target);
    renamed = true;
    await syncDirectory(directory);
  } finally {
    if (!renamed) await rm(tempPath, { force: true });
  }
}

/** Makes the rename itself durable (the new directory entry), not just the file's data. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}
