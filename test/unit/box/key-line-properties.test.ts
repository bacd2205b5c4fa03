/**
 * Property tests over the box's key-line path, end to end: whatever text is submitted as
 * a key and whatever is asked for as a repo name, what reaches authorized_keys is either
 * nothing (refused) or exactly one line of the one shape that pins a key to one repo.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { findOwnedLine, renderKeyLine } from "../../../src/box/authorized-keys.ts";
import { resolveRepoPath, validateRepoName } from "../../../src/box/repo-names.ts";
import { parseSshPublicKey } from "../../../src/shared/ssh-key.ts";

const ROOT = "/var/lib/borg/repos";
const realKey = readFileSync(join(import.meta.dir, "../../fixtures/ssh-keys/ed25519.pub"), "utf8");
const LINE =
  /^command="borg serve --restrict-to-repository \/var\/lib\/borg\/repos\/[a-z0-9][a-z0-9-]{0,62}( --append-only)?",restrict (ssh-ed25519|sk-ssh-ed25519@openssh\.com|ecdsa-sha2-nistp(256|384|521)|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-rsa) [A-Za-z0-9+/]+={0,2} # borgbox:[a-z0-9][a-z0-9-]{0,62}$/;

/** What the box would write for a submission, or undefined when it refuses. */
function submit(name: string, pubkey: string, appendOnly: boolean): string | undefined {
  let repoName: string;
  try {
    repoName = validateRepoName(name);
  } catch {
    return undefined;
  }
  const parsed = parseSshPublicKey(pubkey);
  if (!parsed.ok) return undefined;
  return renderKeyLine({
    repoPath: resolveRepoPath(ROOT, repoName),
    name: repoName,
    key: parsed.key,
    appendOnly,
  });
}

// Text made of the pieces an attacker would use: quotes, commas, options, newlines.
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '"',
        ",",
        " ",
        "\n",
        "\r",
        "\0",
        "#",
        "command=",
        'command="sh"',
        "no-pty",
        "restrict",
        "permitopen=",
        "ssh-ed25519",
        "AAAA",
        "=",
        "../",
        "/",
        realKey.trim(),
      ),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(""));

describe("key lines, for any input", () => {
  test("refused, or exactly one line of the pinned shape for the named repo", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom("mac", "db-1", "a"), hostile),
        fc.oneof(fc.constant(realKey), hostile),
        fc.boolean(),
        (name, pubkey, appendOnly) => {
          const line = submit(name, pubkey, appendOnly);
          if (line === undefined) return;
          expect(line).toMatch(LINE);
          expect(line.split("\n")).toHaveLength(1);
          expect(line).toContain(`--restrict-to-repository ${ROOT}/${name}`);
          expect(line.endsWith(` # borgbox:${name}`)).toBe(true);
          expect(findOwnedLine(`${line}\n`, name)).toBeDefined();
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("the real key with any comment keeps its key and loses nothing but the comment", () => {
    const [type, base64] = realKey.trim().split(" ");
    fc.assert(
      fc.property(hostile, (comment) => {
        const line = submit("mac", `${type} ${base64} ${comment}`, false);
        if (line === undefined) return;
        expect(line).toBe(
          `command="borg serve --restrict-to-repository ${ROOT}/mac",restrict ${type} ${base64} # borgbox:mac`,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
