/**
 * The location parser and the other argv-value checks shared by hub and agent.
 * The attack cases are the ones a review ran against the compiled binary; the
 * properties say what must hold for ANY input, not only the ones we thought of.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  absolutePathProblem,
  archiveMemberPath,
  archiveNameProblem,
  archivePathProblem,
  compressionProblem,
  formatBorgLocation,
  parseBorgLocation,
  patternProblem,
} from "../../../../src/shared/protocol/borg-values.ts";

const ok = (input: string, version: 1 | 2 = 1) => {
  const parsed = parseBorgLocation(input, version);
  if (!parsed.ok) throw new Error(`${input} refused: ${parsed.reason}`);
  return parsed.location;
};
const refused = (input: string, version: 1 | 2 = 1) => {
  const parsed = parseBorgLocation(input, version);
  if (parsed.ok) throw new Error(`${input} accepted as ${JSON.stringify(parsed.location)}`);
  return parsed.reason;
};

describe("parseBorgLocation", () => {
  test("the forms borg understands, split into their parts", () => {
    expect(ok("/srv/backup/laptop")).toEqual({ kind: "local", path: "/srv/backup/laptop" });
    expect(ok("ssh://borg@box.example.com:2222/var/lib/borg/repos/mac")).toEqual({
      kind: "ssh",
      form: "url",
      user: "borg",
      host: "box.example.com",
      port: 2222,
      path: "/var/lib/borg/repos/mac",
    });
    expect(ok("ssh://10.0.0.5/./repo")).toMatchObject({ host: "10.0.0.5", user: undefined });
    expect(ok("ssh://u@[2001:db8::1]:22/~/repo")).toMatchObject({ host: "2001:db8::1", port: 22 });
    expect(ok("borg@backup:repos/laptop")).toEqual({
      kind: "ssh",
      form: "scp",
      user: "borg",
      host: "backup",
      port: undefined,
      path: "repos/laptop",
    });
    expect(ok("ssh://borg@box/repo", 2)).toMatchObject({ host: "box" });
  });

  test("the review's command-injection locations are refused", () => {
    const attacks = [
      "ssh://-oProxyCommand=touch$(printf '\\057')tmp$(printf '\\057')pwned/repo",
      "ssh://-oProxyCommand=id/repo",
      "ssh://borg@-oProxyCommand=id/repo",
      "ssh://-oProxyCommand=id@host/repo",
      "ssh://host:-oProxyCommand=id/repo",
      "-oProxyCommand=id:repo",
      "borg@-oProxyCommand=id:repo",
      "ssh://bo rg@host/repo",
      "ssh://borg@ho st/repo",
      "ssh://borg@host;id/repo",
      "ssh://borg@host$(id)/repo",
      "ssh://borg@`id`/repo",
      "ssh://borg@host\n-oProxyCommand=id/repo",
      "ssh://borg@[::1;id]/repo",
      "ssh://borg@[-oProxyCommand=id]/repo",
      "ssh://borg@a@b/repo",
      "ssh://borg@host:0/repo",
      "ssh://borg@host:65536/repo",
      "ssh://borg@host:22x/repo",
      "ssh://borg@999.1.1.1/repo",
      "borg@host:-repo",
      "ssh://borg@host/",
      "--rsh=id",
    ];
    for (const attack of attacks) refused(attack);
    expect(refused("ssh://-oProxyCommand=id/repo")).toContain("invalid host");
    expect(refused("ssh://x@-oProxyCommand=id/repo")).toContain("invalid host");
    expect(refused("ssh://-o@host/repo")).toContain("invalid user name");
    expect(refused("-x")).toBe(`must not start with "-"`);
  });

  test("relative paths, other schemes, borg 1's '::' and borg 2's scp form are refused", () => {
    expect(refused("repo")).toContain("absolute path");
    expect(refused("~/repo")).toContain("absolute path");
    expect(refused("file:///srv/repo")).toContain("absolute path");
    expect(refused("sftp://host/repo")).toContain("absolute path");
    expect(refused("/srv/repo::archive")).toContain("::");
    expect(refused("ssh://h/repo::archive")).toContain("::");
    expect(ok("ssh://[::1]/repo")).toMatchObject({ host: "::1" });
    expect(ok("/srv/repo::x", 2)).toEqual({ kind: "local", path: "/srv/repo::x" });
    expect(refused("borg@host:repo", 2)).toContain("borg 2");
    expect(refused(" /srv/repo")).toContain("whitespace");
    expect(refused("")).toBe("is empty");
  });

  // What ssh would be handed: user and host are what ends up as ssh's arguments.
  const sshArguments = (input: string) => {
    const parsed = parseBorgLocation(input);
    if (!parsed.ok || parsed.location.kind !== "ssh") return [];
    const { user, host, port } = parsed.location;
    return [...(user ? [user] : []), host, ...(port ? [String(port)] : [])];
  };

  test("property: no accepted location hands ssh an option, whitespace or a shell character", () => {
    const piece = fc.stringMatching(/^[-a-zA-Z0-9 .:@/[\]$;`'"|&()=\\\n]{0,12}$/);
    fc.assert(
      fc.property(piece, piece, piece, piece, (user, host, port, path) => {
        for (const input of [
          `ssh://${user}@${host}:${port}/${path}`,
          `ssh://${host}/${path}`,
          `${user}@${host}:${path}`,
          `${host}:${path}`,
        ]) {
          for (const arg of sshArguments(input)) {
            expect(arg.startsWith("-")).toBe(false);
            expect(arg).not.toMatch(/[\s;$`'"|&()<>\\=]/);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  test("property: a valid location survives format → parse unchanged", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    const host = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join(".")),
      fc.ipV4(),
      // zod's IPv6 check refuses the full form with an embedded IPv4 ("0:0:0:0:0:0:1.2.3.4");
      // being stricter than needed is fine, so those are left out here.
      fc.ipV6().filter((a) => !a.includes(".")),
    );
    const user = fc.option(fc.stringMatching(/^[a-z_][a-z0-9._-]{0,10}$/), { nil: undefined });
    const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
    const path = fc.stringMatching(/^\/[a-zA-Z0-9._~/ -]{0,19}[a-z]$/);
    fc.assert(
      fc.property(host, user, port, path, (h, u, p, pa) => {
        const parsed = parseBorgLocation(
          formatBorgLocation({ kind: "ssh", form: "url", user: u, host: h, port: p, path: pa }),
        );
        // A digits-only label set like "1.2" is refused as a malformed address: skip it.
        fc.pre(!/^[0-9.]+$/.test(h) || parsed.ok);
        expect(parsed).toEqual({
          ok: true,
          location: { kind: "ssh", form: "url", user: u, host: h, port: p, path: pa },
        });
      }),
      { numRuns: 2000 },
    );
  });

  test("property: no location with a control character is ever accepted", () => {
    const control = fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string(), control, fc.string(), (a, c, b) => {
        expect(parseBorgLocation(`/${a}${c}${b}`).ok).toBe(false);
        expect(parseBorgLocation(`ssh://h/${a}${c}${b}`).ok).toBe(false);
      }),
    );
  });
});

describe("the other argv values", () => {
  test("archive names", () => {
    expect(archiveNameProblem("{hostname}-{now:%Y-%m-%dT%H:%M}")).toBeUndefined();
    for (const bad of ["", "a/b", "-a", "--help", "a\nb", "a::b"]) {
      expect(archiveNameProblem(bad)).toBeString();
    }
  });

  test("compression specs", () => {
    for (const good of ["lz4", "zstd,3", "auto,zstd,10", "obfuscate,110,zstd,3", "none"]) {
      expect(compressionProblem(good)).toBeUndefined();
    }
    for (const bad of ["gzip", "lz4 --x", "-lz4", "zstd,3;id", "", "LZ4"]) {
      expect(compressionProblem(bad)).toBeString();
    }
  });

  test("patterns and paths", () => {
    expect(patternProblem("sh:**/.cache")).toBeUndefined();
    expect(patternProblem("a\nb")).toBeString();
    expect(absolutePathProblem("/home/-rf name")).toBeUndefined();
    for (const bad of ["", "-rf", "home", "/a\u0000b", "/a\rb"]) {
      expect(absolutePathProblem(bad)).toBeString();
    }
  });
});

describe("archivePathProblem / archiveMemberPath", () => {
  test("archive members: relative or with a leading '/', never climbing", () => {
    expect(archivePathProblem("/home/u/a.txt")).toBeUndefined();
    expect(archivePathProblem("home/u/")).toBeUndefined();
    expect(archiveMemberPath("/home/u/")).toBe("home/u");
    expect(archivePathProblem("")).toBe("is empty");
    expect(archivePathProblem("/")).toBe("is empty");
    for (const bad of ["a/../b", "..", "./a", "a//b"]) {
      expect(archivePathProblem(bad)).toMatch(/segment/);
    }
    expect(archivePathProblem("a\u0007b")).toMatch(/control/);
  });
});
