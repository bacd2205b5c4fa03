/** `borgctl server`: the hub. Its issue has not landed yet; the flags are the contract. */
import { defineCommand } from "citty";
import { configArg, logLevelArg } from "../args.ts";
import { notBuiltYet } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "borgctl server",
    description: "Run the hub: API, web UI, machines, repositories and the job queue",
  },
  args: {
    ...configArg,
    addr: {
      type: "string",
      valueHint: "host:port",
      description: "Listen address [env BORGCTL_ADDR] (default 127.0.0.1:8080)",
    },
    "data-dir": {
      type: "string",
      valueHint: "dir",
      description: "Database and keys [env BORGCTL_DATA_DIR] (default ~/.local/share/borgctl)",
    },
    ...logLevelArg,
  },
  run() {
    notBuiltYet("server");
  },
});
