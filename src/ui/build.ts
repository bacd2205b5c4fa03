/**
 * Bundles the browser UI: main.tsx (JS) and styles.css, minified, with content-hashed
 * names, plus an index.html that references them. The top-level build.ts calls
 * buildUi("dist/ui-assets") before compiling; the hub's ui-macro then inlines that
 * directory into the binary. (Bun.build cannot run inside a macro: it would wait on the
 * bundler that is waiting on the macro.)
 *
 * Only Bun globals here: this file is browser-side code by location (src/ui), so the
 * architecture rules allow it no node: imports.
 */
import { type UiAsset, uiContentType } from "./assets.ts";

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

export function renderIndexHtml(script: string, stylesheet: string): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    "<title>borgctl</title>",
    `<link rel="stylesheet" href="${stylesheet}">`,
    `<script type="module" src="${script}"></script>`,
    "</head>",
    "<body>",
    '<div id="app"><noscript>The borgctl web UI needs JavaScript.</noscript></div>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

export async function buildUiAssets(): Promise<UiAsset[]> {
  const dir = import.meta.dir;
  const result = await Bun.build({
    entrypoints: [`${dir}/main.tsx`, `${dir}/styles.css`],
    target: "browser",
    minify: true,
    naming: "[name]-[hash].[ext]",
    // The UI renders with hono's DOM runtime, not the string renderer the server uses.
    jsx: { importSource: "hono/jsx/dom", runtime: "automatic" },
  });
  if (!result.success) {
    throw new Error(`UI build failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  const assets: UiAsset[] = [];
  let script = "";
  let stylesheet = "";
  for (const output of result.outputs) {
    const name = output.path.slice(output.path.lastIndexOf("/") + 1);
    const path = `/assets/${name}`;
    if (name.endsWith(".js") && output.kind === "entry-point") script = path;
    if (name.endsWith(".css")) stylesheet = path;
    assets.push({
      path,
      contentType: uiContentType(name),
      body: base64(new Uint8Array(await output.arrayBuffer())),
    });
  }
  if (!script || !stylesheet) throw new Error("UI build produced no script or no stylesheet");
  const html = new TextEncoder().encode(renderIndexHtml(script, stylesheet));
  assets.push({
    path: "/index.html",
    contentType: uiContentType("index.html"),
    body: base64(html),
  });
  return assets;
}

/** Writes the bundle to outDir (e.g. dist/ui-assets) and returns what it wrote. */
export async function buildUi(outDir: string): Promise<UiAsset[]> {
  const assets = await buildUiAssets();
  for (const asset of assets) {
    await Bun.write(`${outDir}${asset.path}`, Buffer.from(asset.body, "base64"));
  }
  return assets;
}
