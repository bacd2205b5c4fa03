/**
 * Listen addresses as people write them: ":9999" (all interfaces), "127.0.0.1:9999",
 * "[::1]:9999", "localhost:0" (0 = pick a free port, useful in tests).
 */
import { z } from "zod";

export interface ListenAddr {
  hostname: string;
  port: number;
}

export function parseListenAddr(text: string): ListenAddr | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const hostname = match[1] ?? (match[2] || "0.0.0.0");
  return { hostname, port };
}

export const ListenAddrSchema = z.string().transform((text, ctx) => {
  const addr = parseListenAddr(text);
  if (!addr) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not a listen address; use HOST:PORT, :PORT or [IPv6]:PORT`,
    });
    return z.NEVER;
  }
  return addr;
});

/** The address to show a person: "0.0.0.0" means every interface, so say "localhost". */
export function displayUrl(addr: ListenAddr, scheme = "http"): string {
  const host = addr.hostname === "0.0.0.0" || addr.hostname === "::" ? "localhost" : addr.hostname;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
}
