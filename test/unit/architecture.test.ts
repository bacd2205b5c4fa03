/**
 * The import boundaries of ARCHITECTURE.md, checked on every file under src/.
 * A rule broken here is a design decision being undone by accident.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { runProcess } from "../../src/shared/process/spawn.ts";

const SRC = resolve(import.meta.dir, "../../src");

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

interface SourceFile {
  /** Path relative to src/, e.g. "box/http.ts". */
  path: string;
  text: string;
  /** Imported specifiers: bare ("zod") or resolved relative to src/ ("shared/errors.ts"). */
  imports: string[];
}

// Static imports and re-exports start a line; dynamic import() can be anywhere.
const IMPORT_RE =
  /^\s*(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]*?\s*from\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function load(file: string): SourceFile {
  const text = readFileSync(file, "utf8");
  const imports: string[] = [];
  for (const match of text.matchAll(IMPORT_RE)) {
    const spec = (match[1] ?? match[2]) as string;
    imports.push(spec.startsWith(".") ? relative(SRC, resolve(dirname(file), spec)) : spec);
  }
  return { path: relative(SRC, file), text, imports };
}

const files = sourceFiles().map(load);
const ROLES = ["server", "agent", "box"] as const;
const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

function violations(check: (file: SourceFile, spec: string) => boolean): string[] {
  return files.flatMap((file) =>
    file.imports.filter((spec) => check(file, spec)).map((spec) => `${file.path} imports ${spec}`),
  );
}

describe("architecture", () => {
  test("the import parser sees imports (guards the rules below against a silent regex)", () => {
    const root = files.find((f) => f.path === "cli/root.ts");
    expect(root?.imports).toContain("shared/log.ts");
    expect(root?.imports).toContain("citty");
    expect(root?.imports).toContain("cli/commands/box.ts");
    expect(files.length).toBeGreaterThan(10);
  });

  test("shared/protocol imports only zod and itself", () => {
    expect(
      violations(
        (f, spec) =>
          under(f.path, "shared/protocol") && spec !== "zod" && !under(spec, "shared/protocol"),
      ),
    ).toEqual([]);
  });

  test("roles never import each other", () => {
    expect(
      violations((f, spec) =>
        ROLES.some(
          (role) =>
            under(f.path, role) && ROLES.some((other) => other !== role && under(spec, other)),
        ),
      ),
    ).toEqual([]);
  });

  test("the hub never imports borg, and borg and shared import no role", () => {
    expect(violations((f, spec) => under(f.path, "server") && under(spec, "borg"))).toEqual([]);
    expect(
      violations(
        (f, spec) =>
          (under(f.path, "borg") || under(f.path, "shared")) &&
          [...ROLES, "cli", "ui"].some((dir) => under(spec, dir)),
      ),
    ).toEqual([]);
  });

  test("browser code imports only shared/protocol, hono's browser parts and itself", () => {
    expect(
      violations(
        (f, spec) =>
          under(f.path, "ui") &&
          !under(spec, "ui") &&
          !under(spec, "shared/protocol") &&
          !["hono/jsx", "hono/jsx/dom", "hono/client", "zod"].includes(spec),
      ),
    ).toEqual([]);
  });

  test("drizzle only under server/db", () => {
    expect(
      violations((f, spec) => spec.startsWith("drizzle-orm") && !under(f.path, "server/db")),
    ).toEqual([]);
  });

  // Everything else talks to the Store interface (server/db/store.ts), so a PostgreSQL
  // store is a second implementation, not a rewrite.
  test("only the SQLite store (server/db/sqlite) imports bun:sqlite", () => {
    expect(files.find((f) => f.path === "server/db/sqlite/client.ts")?.imports).toContain(
      "bun:sqlite",
    );
    expect(
      violations(
        (f, spec) =>
          (spec === "bun:sqlite" || spec.startsWith("drizzle-orm/bun-sqlite")) &&
          !under(f.path, "server/db/sqlite"),
      ),
    ).toEqual([]);
  });

  // The hub's and the box's HTTP code: app assembly, middleware, routes.
  const httpLayer = (path: string) =>
    under(path, "server/http") ||
    path === "server/app.ts" ||
    path === "box/http.ts" ||
    under(path, "box/http");

  test("hono only in the HTTP layers", () => {
    const allowed = (path: string) =>
      httpLayer(path) || under(path, "shared/http") || under(path, "ui");
    expect(
      violations((f, spec) =>
        spec.startsWith("hono") || spec.startsWith("@hono") ? !allowed(f.path) : false,
      ),
    ).toEqual([]);
  });

  test("shared/http (the one HTTP toolkit) is used only by the HTTP layers", () => {
    // Both apps are built on it, so a rule that sees no user of it is looking at nothing.
    expect(files.find((f) => f.path === "box/http.ts")?.imports).toContain("shared/http/errors.ts");
    expect(files.find((f) => f.path === "server/app.ts")?.imports).toContain(
      "shared/http/errors.ts",
    );
    expect(
      violations(
        (f, spec) =>
          under(spec, "shared/http") && !httpLayer(f.path) && !under(f.path, "shared/http"),
      ),
    ).toEqual([]);
  });

  test("only shared/process/spawn.ts spawns processes", () => {
    const spawners = files
      .filter((f) => f.path !== "shared/process/spawn.ts")
      .filter(
        (f) =>
          /\bBun\.(spawn|spawnSync|\$)\b/.test(f.text) ||
          f.imports.some((s) => s === "child_process" || s === "node:child_process" || s === "bun"),
      )
      .map((f) => f.path);
    expect(spawners).toEqual([]);
  });

  test("the environment is read only by commands, composition roots and spawn's allow-list", () => {
    const readers = files
      .filter((f) => /\bprocess\.env\b|\bBun\.env\b/.test(f.text))
      .map((f) => f.path)
      .filter(
        (path) =>
          !under(path, "cli") &&
          !/^(server|agent|box)\/start\.ts$/.test(path) &&
          path !== "shared/process/spawn.ts",
      );
    expect(readers).toEqual([]);
  });

  test("importing any module does no work: no env reads, timers, servers or spawns", async () => {
    // The entrypoints act when loaded (that is their job): the binary's and the WAL
    // checkpoint thread's (build.ts compiles both).
    const entrypoints = ["main.ts", "server/db/sqlite/checkpoint-worker.ts"];
    const modules = files
      .map((f) => f.path)
      .filter((path) => !entrypoints.includes(path) && !under(path, "ui"));
    // Third-party packages may read the environment when loaded (citty reads NO_COLOR);
    // that is theirs to decide, so they load before the traps go in.
    const packages = [...new Set(files.flatMap((f) => f.imports))].filter(
      (spec) =>
        !spec.includes(".ts") &&
        !spec.startsWith(".") &&
        !spec.startsWith("bun:") &&
        !spec.startsWith("node:") &&
        spec !== "bun",
    );
    // A child process imports every module with the side-effect entry points trapped.
    const script = `
      for (const p of ${JSON.stringify(packages)}) await import(p);
      const seen = [];
      const realEnv = process.env;
      process.env = new Proxy(realEnv, { get(t, k) { if (typeof k === "string") seen.push("env " + k); return t[k]; } });
      for (const name of ["setTimeout", "setInterval"]) {
        const real = globalThis[name];
        globalThis[name] = (...a) => { seen.push(name); return real(...a); };
      }
      Bun.serve = () => { seen.push("Bun.serve"); throw new Error("no"); };
      Bun.spawn = () => { seen.push("Bun.spawn"); throw new Error("no"); };
      for (const m of ${JSON.stringify(modules)}) {
        const before = seen.length;
        await import(${JSON.stringify(`${SRC}/`)} + m);
        for (const what of seen.splice(before)) console.log(m + ": " + what);
      }
    `;
    const result = await runProcess({
      argv: [process.execPath, "-e", script],
      captureStdout: true,
    });
    expect(result.stderrTail).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split("\n").filter(Boolean)).toEqual([]);
  });

  // Services take an Actor (services/actor.ts), not a request: the scheduler and the sweeps
  // call them with no HTTP request at all.
  test("services never import the HTTP layer", () => {
    expect(
      violations((f, spec) => under(f.path, "server/services") && under(spec, "server/http")),
    ).toEqual([]);
  });
});
