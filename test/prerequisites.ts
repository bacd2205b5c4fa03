/**
 * What the test suite needs from the machine beyond Bun: the real borg, sshd and
 * ssh-keygen (integration and e2e), shellcheck (install.sh), Debian's chromium (the UI's
 * browser tests) and PostgreSQL's server binaries (the PostgreSQL store's throwaway
 * clusters). `bun run test:all` checks them first: as root with apt-get it installs what
 * is missing (as CI does); otherwise it stops at once with the exact command to run,
 * instead of letting dozens of tests fail for one missing package.
 *
 * Each probe's location can be overridden by an environment variable (PREREQ_<NAME>, a
 * path), so a test can hide one tool from the check without touching the machine.
 */
import { existsSync } from "node:fs";

export interface Prerequisite {
  name: string;
  /** Why the suite needs it. */
  why: string;
  debian: string;
  /** Homebrew's name ("--cask chromium" for a cask); null: macOS ships it. */
  homebrew: string | null;
  /** Where it is, or undefined when it is missing. */
  find(env: Record<string, string | undefined>): string | undefined;
}

const onPath = (command: string) => (env: Record<string, string | undefined>) =>
  Bun.which(command, { PATH: env.PATH ?? "" }) ?? undefined;
const atPath = (path: string) => () => (existsSync(path) ? path : undefined);
const firstGlob = (pattern: string) => () => {
  for (const match of new Bun.Glob(pattern).scanSync({ cwd: "/", absolute: true })) return match;
  return undefined;
};

/** The probe, unless PREREQ_<NAME> names a path (which must exist). */
const overridable =
  (name: string, probe: (env: Record<string, string | undefined>) => string | undefined) =>
  (env: Record<string, string | undefined>) => {
    const override = env[`PREREQ_${name.toUpperCase().replaceAll("-", "_")}`];
    if (override !== undefined) return existsSync(override) ? override : undefined;
    return probe(env);
  };

export const PREREQUISITES: Prerequisite[] = [
  {
    name: "borg",
    why: "the real borg for integration and e2e tests",
    debian: "borgbackup",
    homebrew: "borgbackup",
    find: overridable("borg", onPath("borg")),
  },
  {
    name: "sshd",
    why: "a real sshd on 127.0.0.1 for box tests",
    debian: "openssh-server",
    homebrew: null,
    find: overridable("sshd", atPath("/usr/sbin/sshd")),
  },
  {
    name: "ssh-keygen",
    why: "agent and box keys",
    debian: "openssh-client",
    homebrew: null,
    find: overridable("ssh-keygen", onPath("ssh-keygen")),
  },
  {
    name: "shellcheck",
    why: "checks install.sh",
    debian: "shellcheck",
    homebrew: "shellcheck",
    find: overridable("shellcheck", onPath("shellcheck")),
  },
  {
    name: "chromium",
    why: "the web UI's browser tests",
    debian: "chromium",
    homebrew: "--cask chromium",
    find: overridable("chromium", atPath("/usr/bin/chromium")),
  },
  {
    name: "postgresql",
    why: "the PostgreSQL store's tests (a throwaway cluster each)",
    debian: "postgresql",
    homebrew: "postgresql@15",
    find: overridable("postgresql", firstGlob("usr/lib/postgresql/*/bin/initdb")),
  },
];

export function missingPrerequisites(
  env: Record<string, string | undefined> = process.env,
): Prerequisite[] {
  return PREREQUISITES.filter((p) => p.find(env) === undefined);
}

/** The one message for a machine that lacks some: what, why, and the command for each OS. */
export function installAdvice(missing: readonly Prerequisite[]): string {
  const debian = missing.map((p) => p.debian).join(" ");
  const formulae = missing.filter((p) => p.homebrew && !p.homebrew.startsWith("--cask"));
  const casks = missing.filter((p) => p.homebrew?.startsWith("--cask"));
  const mac = [
    formulae.length ? `brew install ${formulae.map((p) => p.homebrew).join(" ")}` : "",
    ...casks.map((p) => `brew install ${p.homebrew}`),
  ].filter(Boolean);
  return [
    `missing: ${missing.map((p) => `${p.name} (${p.why})`).join(", ")}`,
    `install on Debian/Ubuntu: sudo apt-get install -y ${debian}`,
    ...(mac.length ? [`install on macOS: ${mac.join(" && ")}`] : []),
    "then run the tests again (as root, this command installs them itself)",
  ].join("\n");
}
