import { describe, expect, test } from "bun:test";
import { buildBorgEnv, buildBorgRsh, shellQuote } from "../../../src/borg/env.ts";
import { AppError } from "../../../src/shared/errors.ts";
import { runProcess } from "../../../src/shared/process/spawn.ts";

/** What borg does with BORG_RSH: Python's shlex.split (remote.py in 1.2.4). */
async function shlexSplit(command: string): Promise<string[]> {
  const result = await runProcess({
    argv: [
      "python3",
      "-c",
      "import json, os, shlex; print(json.dumps(shlex.split(os.environ['BORG_RSH'])))",
    ],
    env: { BORG_RSH: command },
    captureStdout: true,
  });
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout);
}

function validationError(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("validation_failed");
    return error as AppError;
  }
  throw new Error("expected a validation error");
}

const rsh = {
  keyFile: "/var/lib/borgctl/ssh/id_ed25519",
  knownHostsFile: "/var/lib/borgctl/ssh/known_hosts",
  strictHostKeyChecking: "accept-new" as const,
};

describe("buildBorgEnv", () => {
  test("defaults answer every question with no and set nothing secret", () => {
    expect(buildBorgEnv()).toEqual({
      LANG: "C.UTF-8",
      TZ: "UTC",
      BORG_HOSTNAME_IS_UNIQUE: "yes",
      BORG_RELOCATED_REPO_ACCESS_IS_OK: "no",
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "no",
      BORG_DISPLAY_PASSPHRASE: "no",
      BORG_DELETE_I_KNOW_WHAT_I_AM_DOING: "NO",
      BORG_CHECK_I_KNOW_WHAT_I_AM_DOING: "NO",
    });
  });

  test("the passphrase goes to BORG_PASSPHRASE only, and only when given", () => {
    const env = buildBorgEnv({ passphrase: "s3cret pass", rsh, baseDir: "/var/lib/borgctl/borg" });
    expect(env.BORG_PASSPHRASE).toBe("s3cret pass");
    const others = Object.entries(env).filter(([name]) => name !== "BORG_PASSPHRASE");
    for (const [, value] of others) expect(value).not.toContain("s3cret");
    expect("BORG_PASSPHRASE" in buildBorgEnv({ rsh })).toBe(false);
    expect(buildBorgEnv({ passphrase: "" }).BORG_PASSPHRASE).toBe("");
  });

  test("relocated and unencrypted access only when told", () => {
    const env = buildBorgEnv({ relocatedOk: true, unencryptedOk: true });
    expect(env.BORG_RELOCATED_REPO_ACCESS_IS_OK).toBe("yes");
    expect(env.BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK).toBe("yes");
    expect(buildBorgEnv({ relocatedOk: false }).BORG_RELOCATED_REPO_ACCESS_IS_OK).toBe("no");
  });

  test("base dir must be absolute and on one line", () => {
    expect(buildBorgEnv({ baseDir: "/srv/borg base" }).BORG_BASE_DIR).toBe("/srv/borg base");
    validationError(() => buildBorgEnv({ baseDir: "relative/dir" }));
    validationError(() => buildBorgEnv({ baseDir: "/srv/borg\nBORG_PASSPHRASE=x" }));
  });
});

describe("buildBorgRsh", () => {
  test("the plain case reads like BORG.md's line", () => {
    expect(buildBorgRsh({ ...rsh, port: 2222 })).toBe(
      "ssh -i /var/lib/borgctl/ssh/id_ed25519 -p 2222 -o BatchMode=yes -o IdentitiesOnly=yes" +
        " -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/var/lib/borgctl/ssh/known_hosts" +
        " -o ServerAliveInterval=30 -o ServerAliveCountMax=4",
    );
    expect(buildBorgRsh({ ...rsh, strictHostKeyChecking: "yes" })).toContain(
      "-o StrictHostKeyChecking=yes -o",
    );
    expect(buildBorgRsh(rsh)).not.toContain("-p");
  });

  test("paths with spaces and quotes survive borg's shlex.split", async () => {
    const command = buildBorgRsh({
      keyFile: "/home/o'brien/my keys/id_ed25519",
      knownHostsFile: "/home/o'brien/ssh dir/known_hosts",
      strictHostKeyChecking: "yes",
      port: 22,
    });
    expect(await shlexSplit(command)).toEqual([
      "ssh",
      "-i",
      "/home/o'brien/my keys/id_ed25519",
      "-p",
      "22",
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      // ssh splits this value at whitespace itself (several files): the double quotes keep it whole.
      `UserKnownHostsFile="/home/o'brien/ssh dir/known_hosts"`,
      "-o",
      "ServerAliveInterval=30",
      "-o",
      "ServerAliveCountMax=4",
    ]);
  });

  test("refuses newlines, relative paths, ssh tokens and bad ports", () => {
    validationError(() => buildBorgRsh({ ...rsh, keyFile: "/keys/id\n-oProxyCommand=evil" }));
    validationError(() => buildBorgRsh({ ...rsh, knownHostsFile: "/kh\r" }));
    validationError(() => buildBorgRsh({ ...rsh, keyFile: "id_ed25519" }));
    validationError(() => buildBorgRsh({ ...rsh, keyFile: "~/.ssh/id_ed25519" }));
    validationError(() => buildBorgRsh({ ...rsh, keyFile: "/keys/%h" }));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ssh's own ${VAR} syntax, on purpose
    validationError(() => buildBorgRsh({ ...rsh, knownHostsFile: "/keys/${HOME}" }));
    validationError(() => buildBorgRsh({ ...rsh, knownHostsFile: '/keys/"kh"' }));
    validationError(() => buildBorgRsh({ ...rsh, port: 0 }));
    validationError(() => buildBorgRsh({ ...rsh, port: 65536 }));
    validationError(() => buildBorgRsh({ ...rsh, port: 22.5 }));
  });

  test("buildBorgEnv puts it in BORG_RSH", () => {
    expect(buildBorgEnv({ rsh }).BORG_RSH).toBe(buildBorgRsh(rsh));
  });
});

describe("shellQuote", () => {
  test.each([
    ["plain/path-1.2_x", "plain/path-1.2_x"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", `'it'"'"'s'`],
    ["$HOME", "'$HOME'"],
    ["a;b", "'a;b'"],
  ])("%j → %s", (input, expected) => {
    expect(shellQuote(input)).toBe(expected);
  });

  test("round-trips through shlex.split", async () => {
    const nasty = ["a b", "it's", '"dq"', "$(rm -rf /)", "back\\slash", "tab\there", "ünï"];
    expect(await shlexSplit(nasty.map(shellQuote).join(" "))).toEqual(nasty);
  });
});
