import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pinnedKnownHosts } from "../../../src/agent/known-hosts.ts";
import type { RepositoryRef } from "../../../src/shared/protocol/agent.ts";

const key = readFileSync(join(import.meta.dir, "../../fixtures/ssh-keys/ed25519.pub"), "utf8")
  .split(" ")
  .slice(0, 2)
  .join(" ");
const repository = (location: string, ssh_host_key: string | null): RepositoryRef => ({
  id: 1,
  name: "r",
  location,
  borg_version: 1,
  encryption: "none",
  append_only: false,
  ssh_host_key,
});

describe("pinnedKnownHosts", () => {
  test("renders the keys for the location's own host and port, nothing the hub wrote", () => {
    expect(pinnedKnownHosts(repository("ssh://borg@box.example.com:2222/r", `* ${key}`))).toBe(
      `[box.example.com]:2222 ${key}\n`,
    );
    expect(pinnedKnownHosts(repository("borg@10.0.0.5:repos/r", key))).toBe(`10.0.0.5 ${key}\n`);
  });

  test("nothing pinned, or a local repository: the agent's own known_hosts", () => {
    expect(pinnedKnownHosts(repository("ssh://box/r", null))).toBeUndefined();
    expect(pinnedKnownHosts(repository("/srv/r", key))).toBeUndefined();
  });

  test("a pinned value that is not a key fails the job instead of reaching known_hosts", () => {
    expect(() => pinnedKnownHosts(repository("ssh://box/r", `@cert-authority * ${key}`))).toThrow(
      /pinned host key/,
    );
  });
});
