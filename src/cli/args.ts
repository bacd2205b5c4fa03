/** Flag bundles shared by several commands, so each flag reads the same everywhere. */
import type { ArgsDef } from "citty";
import { LOG_LEVELS } from "../shared/config/common.ts";

export const configArg = {
  config: {
    type: "string",
    valueHint: "path",
    description: "TOML config file (settings there are overridden by environment and flags)",
  },
} as const satisfies ArgsDef;

export const logLevelArg = {
  "log-level": {
    type: "enum",
    options: [...LOG_LEVELS],
    description: "How much to log",
  },
} as const satisfies ArgsDef;
