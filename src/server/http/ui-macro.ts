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
import { type UiAsset, uiContentType } from "../../ui/assets.ts";

export type { UiAsset };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

export function loadUiAssets(): UiAsset[] {
  const dir = join(import.meta.dir, "..", "..", "..", "dist", "ui-assets");
  if (!existsSync(join(dir, "index.html"))) return [];
  return filesUnder(dir).map((file) => ({
    path: `/${relative(dir, file)}`,
    contentType: uiContentType(file),
    body: readFileSync(file).toString("base64"),
  }));
}
