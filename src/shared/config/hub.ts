/** `borgctl server` configuration: BORGCTL_ADDR, BORGCTL_DATA_DIR, BORGCTL_ADMIN_PASSWORD. */
import { z } from "zod";
import { ListenAddrSchema } from "./addr.ts";
import { LogLevelSchema, pathSchema } from "./common.ts";
import type { ConfigField } from "./load.ts";

export const hubConfigSchema = (home: string, dataDir: string) =>
  z
    .strictObject({
      // Loopback by default: exposing the hub is a decision, made with --addr :8080.
      addr: ListenAddrSchema.prefault("127.0.0.1:8080"),
      data_dir: pathSchema(home).prefault(dataDir),
      admin_password: z.string().min(12, "must be at least 12 characters").optional(),
      secret_key: z.string().min(32, "must be at least 32 characters").optional(),
      public_url: z.url().optional(),
      // Serve HTTPS directly (both or neither); otherwise put the hub behind a TLS proxy.
      tls_cert: pathSchema(home).optional(),
      tls_key: pathSchema(home).optional(),
      log_level: LogLevelSchema.default("info"),
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
  { key: "tls_cert", env: "BORGCTL_TLS_CERT", flag: "tls-cert" },
  { key: "tls_key", env: "BORGCTL_TLS_KEY", flag: "tls-key" },
  { key: "log_level", env: "BORGCTL_LOG_LEVEL", flag: "log-level" },
];
