/**
 * `bun run test:all`: every check CI runs, in order, each one counted.
 *   prerequisites (installed as root, else named) → lint (biome ci) → shellcheck
 *   (install.sh) → type check (bun check) → build (all
 *   targets) → bun test (unit, integration, e2e against the built binary) → the hub
 *   suites that exercise the Store again on PostgreSQL → `bench/run.ts --quick`
 * A step that fails still lets the later ones run, so one run shows every problem.
 * The last line is "N passed, N failed": each test counts once, and each of the
 * lint/shellcheck/type-check/build steps counts as one check.
 */
import { installAdvice, missingPrerequisites } from "./prerequisites.ts";

// The bun running this script, so the steps work when bun came from npx and is not on PATH.
const bun = process.execPath;

// What the tests need from the machine (test/prerequisites.ts): installed here when this
// runs as root with apt-get (as CI does), otherwise named with the command that installs
// them — before any step, so a missing package is one clear message, not many failures.
await ensurePrerequisites();
// For the test of the check itself (test/integration/prerequisites.test.ts): stop here.
if (process.env.PREREQ_ONLY) {
  console.log("prerequisites: ok");
  process.exit(0);
}

async function ensurePrerequisites(): Promise<void> {
  let missing = missingPrerequisites();
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  if (root && Bun.which("apt-get") && !process.env.PREREQ_NO_INSTALL) {
    const packages = missing.map((p) => p.debian);
    console.log(`installing ${packages.join(" ")} (apt-get, as root)`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const argv of [
      ["apt-get", "update", "-qq"],
      ["apt-get", "install", "-y", "-qq", ...packages],
    ]) {
      const proc = Bun.spawn(argv, { stdout: "ignore", stderr: "inherit", env });
      if ((await proc.exited) !== 0) console.log(`${argv.slice(0, 2).join(" ")} failed`);
    }
    missing = missingPrerequisites();
    if (missing.length === 0) return;
  }
  console.log(installAdvice(missing));
  console.log("0 passed, 1 failed");
  process.exit(1);
}

/**
 * The hub suites that exercise the Store, run a second time on PostgreSQL (a throwaway
 * cluster per test process, test/helpers/test-store.ts): the same HTTP behaviour on both
 * stores. The slow suites whose cost is password hashing, not the store, stay SQLite-only.
 */
const POSTGRES_SUITES = [
  "agent-jobs",
  "agents",
  "agent-errors",
  "authz-matrix",
  "borg-ui-agent",
  "enrollment",
  "job-complete-atomic",
  "job-outcomes",
  "jobs",
  "lease-after-outage",
  "machines",
  "passphrase-length",
  "plans",
  "plan-chain",
  "repositories",
  "repository-host-keys",
  "repository-location-conflict",
  "scheduler",
  "spec-conformance",
  "freshness",
  "notifications",
  "optional-sources",
].map((suite) => `test/integration/server/${suite}.test.ts`);

const only = Bun.argv.slice(2);
const steps: { name: string; argv: string[]; tests?: boolean; env?: Record<string, string> }[] = [
  { name: "lint", argv: [bun, "x", "biome", "ci", "--colors=off", "."] },
  { name: "shellcheck", argv: ["shellcheck", "install.sh"] },
  { name: "type check", argv: [bun, "check"] },
  { name: "build", argv: [bun, "build.ts"] },
  { name: "tests", argv: [bun, "test", "--timeout", "120000", ...only], tests: true },
  // Given a test filter, run only that (on SQLite).
  ...(only.length > 0
    ? []
    : [
        {
          name: "hub suites on PostgreSQL",
          argv: [bun, "test", "--timeout", "120000", ...POSTGRES_SUITES],
          tests: true,
          env: { BORGCTL_TEST_STORE: "postgres" },
        },
        // Every benchmark at small N, so the suite does not rot; it asserts no times.
        { name: "bench (quick)", argv: [bun, "bench/run.ts", "--quick"] },
      ]),
];

let passed = 0;
let failed = 0;
const summary: string[] = [];

for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.argv.join(" ")}`);
  // A missing tool (e.g. shellcheck outside CI) fails its step instead of the whole run.
  if (!Bun.which(step.argv[0] as string)) {
    console.log(`${step.argv[0]} is not installed (see test/prerequisites.ts)`);
    failed++;
    summary.push(`${step.name}: FAILED (${step.argv[0]} not installed)`);
    continue;
  }
  const proc = Bun.spawn(step.argv, {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...step.env },
  });
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      output += text;
      sink.write(text);
    }
  };
  await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
  const code = await proc.exited;
  if (step.tests) {
    // bun test ends with lines like " 42 pass" and " 0 fail".
    const pass = Number(/^\s*(\d+) pass$/m.exec(output)?.[1] ?? 0);
    const fail = Number(/^\s*(\d+) fail$/m.exec(output)?.[1] ?? 0);
    // A crash before the summary is a failure even if nothing was counted.
    const counted = fail === 0 && code !== 0 ? 1 : fail;
    passed += pass;
    failed += counted;
    summary.push(`${step.name}: ${pass} passed, ${counted} failed (exit ${code})`);
  } else if (code === 0) {
    passed++;
    summary.push(`${step.name}: ok`);
  } else {
    failed++;
    summary.push(`${step.name}: FAILED (exit ${code})`);
  }
}

console.log(`\n${summary.join("\n")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
