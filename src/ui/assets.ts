/**
 * What one file of the bundled web UI is, for the two sides that handle it: the bundler
 * (ui/build.ts, which writes dist/ui-assets) and the hub's macro that inlines that
 * directory (server/http/ui-macro.ts). One type and one content-type table, so a file
 * is served with the type it was built as. No imports: it sits under the browser rule.
 */

export interface UiAsset {
  /** URL path: "/index.html" or "/assets/<name>-<hash>.<ext>". */
  path: string;
  contentType: string;
  /** The file's bytes, base64: survives inlining as a string literal unchanged. */
  body: string;
}

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
  svg: "image/svg+xml",
  map: "application/json",
};

/** The Content-Type of a UI file, by its name's extension. */
export function uiContentType(path: string): string {
  return CONTENT_TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}
