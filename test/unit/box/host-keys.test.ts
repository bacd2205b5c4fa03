/** The host keys a box advertises in /info: read from the configured files, parsed, deduplicated. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeyPatterns, hostKeyReader } from "../../../src/box/host-keys.ts";
import { createLogger } from "../../../src/shared/log.ts";

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const dir = mkdtempSync(join(tmpdir(), "borgctl-hostkeys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("box host keys", () => {
  test("globs and plain paths are read; comments dropped; duplicates once; bad files skipped and logged", async () => {
    writeFileSync(join(dir, "ssh_host_ed25519_key.pub"), `${ED25519} root@box\n`);
    writeFileSync(join(dir, "ssh_host_rsa_key.pub"), "not a key\n");
    writeFileSync(join(dir, "copy.pub"), `${ED25519}\n`);
    const lines: string[] = [];
    const read = hostKeyReader(
      hostKeyPatterns(
        `${join(dir, "ssh_host_*_key.pub")}, ${join(dir, "copy.pub")},${join(dir, "missing.pub")}`,
      ),
      createLogger({ write: (line) => lines.push(line) }),
    );
    expect(await read()).toEqual([ED25519]);
    expect(await read()).toEqual([ED25519]);
    const warnings = lines.filter(
      (l) => l.includes("not advertised") || l.includes("not readable"),
    );
    // One warning per bad file, not one per read.
    expect(warnings).toHaveLength(2);
  });

  test("a directory that does not exist advertises nothing", async () => {
    const read = hostKeyReader(
      ["/nonexistent-borgctl/ssh_host_*_key.pub"],
      createLogger({ write: () => {} }),
    );
    expect(await read()).toEqual([]);
  });
});
