/**
 * `borgctl server` configuration: BORGCTL_ADDR, BORGCTL_DATA_DIR, BORGCTL_ADMIN_PASSWORD,
 * BORGCTL_DATABASE_URL, BORGCTL_METRICS_TOKEN, …
 * trusted_proxies is parsed here (syntax only: IPs and CIDR blocks, IPv4 and IPv6), so a
 * bad entry stops the start with a config error; server/http/client-address.ts matches
 * peers against the parsed blocks.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { ListenAddrSchema } from "./addr.ts";
import { LogLevelSchema, pathSchema } from "./common.ts";
import type { ConfigField } from "./load.ts";

/** One trusted reverse proxy: an address block; a plain address is a /32 or /128. */
export interface TrustedProxy {
  family: "ipv4" | "ipv6";
  address: string;
  prefix: number;
}

/** "10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"; undefined for anything else. */
export function parseTrustedProxy(entry: string): TrustedProxy | undefined {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
  if (!match) return undefined;
  let address = match[1] as string;
  const version = isIP(address);
  if (version === 0 || address.includes("%")) return undefined; // zone ids name a link, not a block
  let family: TrustedProxy["family"] = version === 4 ? "ipv4" : "ipv6";
  const max = family === "ipv4" ? 32 : 128;
  let prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return undefined;
  // Peers on a dual-stack socket show up as ::ffff:a.b.c.d and are matched as IPv4, so an
  // IPv4-mapped entry is stored as the IPv4 block it means.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && prefix >= 96) {
    address = mapped[1] as string;
    family = "ipv4";
    prefix -= 96;
  }
  return { family, address, prefix };
}

const TrustedProxySchema = z.string().transform((entry, ctx) => {
  const parsed = parseTrustedProxy(entry);
  if (!parsed) {
    ctx.addIssue({
      code: "custom",
      message: `"${entry}" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8)`,
    });
    return z.NEVER;
  }
  return parsed;
});

/**
 * A PostgreSQL URL: postgres:// or postgresql://, with a host. The value is never echoed
 * in a message: it may carry a password.
 */
const DatabaseUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
    ctx.addIssue({
      code: "custom",
      message: "must be a PostgreSQL URL: postgres://user:password@host:5432/database",
    });
  } else if (url.hostname === "") {
    ctx.addIssue({ code: "custom", message: "names no host (postgres://user@host/database)" });
  } else if (url.port !== "" && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) {
    ctx.addIssue({ code: "custom", message: "has a port outside 1-65535" });
  }
});

export const hubConfigSchema = (home: string, dataDir: string) =>
  z
    .strictObject({
      // Loopback by default: exposing the hub is a decision, made with --addr :8080.
      addr: ListenAddrSchema.prefault("127.0.0.1:8080"),
      data_dir: pathSchema(home).prefault(dataDir),
      admin_password: z.string().min(12, "must be at least 12 characters").optional(),
      secret_key: z.string().min(32, "must be at least 32 characters").optional(),
      public_url: z.url().optional(),
      // Unset: SQLite in data_dir (one hub). Set: all state in PostgreSQL, shared by replicas.
      database_url: DatabaseUrlSchema.optional(),
      // Serve HTTPS directly (both or neither); otherwise put the hub behind a TLS proxy.
      tls_cert: pathSchema(home).optional(),
      tls_key: pathSchema(home).optional(),
      log_level: LogLevelSchema.default("info"),
      // A bearer token only for GET /metrics (Prometheus). Unset: /metrics needs a user
      // credential (a viewer API token), never anonymous.
      metrics_token: z.string().min(16, "must be at least 16 characters").optional(),
      // A box whose free space falls below this share of its total publishes box.low_space.
      // Env and flag give a string, TOML a number; 0 turns the event off.
      box_low_space_percent: z.coerce
        .number({ error: "must be a number from 0 to 100" })
        .min(0, "must be a number from 0 to 100")
        .max(100, "must be a number from 0 to 100")
        .default(10),
      // The largest single file the UI downloads through the hub (borg extract --stdout
      // streamed from the agent); larger ones are restored onto a machine. 0: no downloads.
      download_max_bytes: z.coerce
        .number({ error: "must be a number of bytes" })
        .int("must be a whole number of bytes")
        .min(0, "must be 0 or more bytes")
        .max(Number.MAX_SAFE_INTEGER, "is too large")
        .default(1024 * 1024 * 1024),
      // With several replicas: the URL the other replicas reach this one at (not the
      // public one), so an agent's download chunks that reach another replica are handed
      // on to the one holding the browser's request. Unset: such a download fails.
      replica_url: z.url().optional(),
      // Peers allowed to say who the client is (X-Forwarded-For/-Proto). Empty: nobody, so
      // a client cannot pick its own address for the audit trail and the login throttle.
      // TOML gives an array; env and flag give one comma-separated string.
      trusted_proxies: z
        .preprocess(
          (value) =>
            typeof value === "string"
              ? value
                  .split(",")
                  .map((entry) => entry.trim())
                  .filter((entry) => entry !== "")
              : value,
          z.array(TrustedProxySchema),
        )
        .default([]),
    })
    .refine((c) => (c.tls_cert === undefined) === (c.tls_key === undefined), {
      message: "tls_cert and tls_key go together: set both or neither",
      path: ["tls_cert"],
    });

export type HubConfig = z.infer<ReturnType<typeof hubConfigSchema>>;

export const HUB_CONFIG_FIELDS: readonly ConfigField[] = [
  { key: "addr", env: "BORGCTL_ADDR", flag: "addr" },
  { key: "data_dir", env: "BORGCTL_DATA_DIR", flag: "data-dir" },
  { key: "admin_password", env: "BORGCTL_ADMIN_PASSWORD", secret: true },
  { key: "secret_key", env: "BORGCTL_SECRET_KEY", secret: true },
  { key: "public_url", env: "BORGCTL_PUBLIC_URL", flag: "public-url" },
  // Secret: the URL may carry the password, so it can come from a file (_FILE, @path).
  { key: "database_url", env: "BORGCTL_DATABASE_URL", flag: "database-url", secret: true },
  { key: "tls_cert", env: "BORGCTL_TLS_CERT", flag: "tls-cert" },
  { key: "tls_key", env: "BORGCTL_TLS_KEY", flag: "tls-key" },
  { key: "log_level", env: "BORGCTL_LOG_LEVEL", flag: "log-level" },
  { key: "metrics_token", env: "BORGCTL_METRICS_TOKEN", secret: true },
  { key: "trusted_proxies", env: "BORGCTL_TRUSTED_PROXIES", flag: "trusted-proxies" },
  {
    key: "box_low_space_percent",
    env: "BORGCTL_BOX_LOW_SPACE_PERCENT",
    flag: "box-low-space-percent",
  },
  { key: "download_max_bytes", env: "BORGCTL_DOWNLOAD_MAX_BYTES", flag: "download-max-bytes" },
  { key: "replica_url", env: "BORGCTL_REPLICA_URL", flag: "replica-url" },
];
