/**
 * A Bun macro: imported `with { type: "macro" }`, loadUiAssets() runs when the code is
 * bundled (or transpiled, in tests and `bun run start`) and its result is inlined as a
 * literal, so the compiled binary carries the web UI and reads no files at run time.
 *
 * It reads dist/ui-assets/, which build.ts fills (src/ui/build.ts) before compiling;
 * `bun build.ts --ui-only` refreshes it for development. Bun.build itself cannot run
 * inside a macro. When the directory is missing the hub serves a page that says so.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface UiAsset {
  /** URL path: "/index.html" or "/assets/<name>-<hash>.<ext>". */
  path: string;
  contentType: string;
  /** base64 of the file's bytes. */
  body: string;
}

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
  svg: "image/svg+xml",
  map: "application/json",
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadUiAssets(): UiAsset[] {
  const dir = join(import.meta.dir, "..", "..", "..", "dist", "ui-assets");
  if (!existsSync(join(dir, "index.html"))) return [];
  return filesUnder(dir).map((file) => {
    const ext = file.slice(file.lastIndexOf(".") + 1);
    return {
      path: `/${relative(dir, file)}`,
      contentType: CONTENT_TYPES[ext] ?? "application/octet-stream",
      body: readFileSync(file).toString("base64"),
    };
  });
}
