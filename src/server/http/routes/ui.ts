/**
 * The web UI, embedded: GET /assets/<hashed name> with a year-long immutable cache (the
 * name changes when the content does), and index.html for every other GET outside /api
 * (the SPA's router decides what to show; index.html is revalidated on every load).
 * Registered after the API routes. The pages are public; the data behind them needs
 * the session cookie the UI gets at login, like any API client.
 */
import type { Hono } from "hono";
import { AppError } from "../../../shared/errors.ts";
import type { HubEnv } from "../context.ts";
import type { UiAsset } from "../ui-macro.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>borgctl</title>
<p>This hub was built without its web UI. Build it with <code>bun run build</code>
(or <code>bun build.ts --ui-only</code> when running from source). The API under /api works.</p>`;

interface DecodedAsset {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
}

export function uiRoutes(app: Hono<HubEnv>, assets: readonly UiAsset[]): void {
  // Decoded (and gzipped) on first use, not at import or startup.
  let decoded: Map<string, DecodedAsset> | undefined;
  const lookup = (path: string): DecodedAsset | undefined => {
    decoded ??= new Map(
      assets.map((a) => {
        const body = new Uint8Array(Buffer.from(a.body, "base64"));
        return [a.path, { contentType: a.contentType, body, gzipped: Bun.gzipSync(body) }];
      }),
    );
    return decoded.get(path);
  };

  const send = (acceptEncoding: string | undefined, asset: DecodedAsset, cache: string) => {
    const gzip = /\bgzip\b/.test(acceptEncoding ?? "");
    const headers: Record<string, string> = {
      "Content-Type": asset.contentType,
      "Cache-Control": cache,
      Vary: "Accept-Encoding",
    };
    if (gzip) headers["Content-Encoding"] = "gzip";
    return new Response(gzip ? asset.gzipped : asset.body, { headers });
  };

  app.get("/assets/:file", (c) => {
    const asset = lookup(`/assets/${c.req.param("file")}`);
    if (!asset) throw new AppError("not_found", "no such asset");
    return send(c.req.header("accept-encoding"), asset, IMMUTABLE);
  });

  app.get("*", (c) => {
    if (c.req.path === "/api" || c.req.path.startsWith("/api/")) {
      throw new AppError("not_found", "no such endpoint");
    }
    const index = lookup("/index.html");
    if (!index) return c.html(NOT_BUILT, 200, { "Cache-Control": "no-cache" });
    return send(c.req.header("accept-encoding"), index, "no-cache");
  });
}
