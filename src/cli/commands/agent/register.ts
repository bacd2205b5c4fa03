/** `borgctl agent register`: enroll this machine with a hub. */
import { defineCommand } from "citty";
import { defaultStateDir } from "../../../agent/state.ts";
import { common, configPath, agentEnv as env, guarded, platform, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent register",
    description: "Enroll this machine with a hub using an enrollment token",
  },
  args: {
    server: {
      type: "string",
      valueHint: "url",
      description: "The hub's URL, e.g. https://backup.example.com",
      required: true,
    },
    token: {
      type: "string",
      valueHint: "borgctl_enroll_…",
      description: "Enrollment token from the hub (one use)",
      required: true,
    },
    name: { type: "string", description: "Name shown in the hub (default: hostname)" },
    "state-dir": {
      type: "string",
      valueHint: "dir",
      description: "Keys, borg cache and outbox (default /var/lib/borgctl/agent as root)",
    },
    insecure: { type: "boolean", description: "Allow plain http:// to a hub on another machine" },
    ...common,
  },
  async run({ args }) {
    const e = env(args);
    const { registerAgent } = await import("../../../agent/start.ts");
    const config = await guarded(() =>
      registerAgent(
        {
          serverUrl: args.server,
          token: args.token,
          name: args.name,
          configPath: configPath(args),
          stateDir: args["state-dir"] ?? defaultStateDir(platform()),
          insecure: args.insecure ?? false,
        },
        e,
      ),
    );
    print(
      args.json,
      { agent_id: config.agent_id, server_url: config.server_url, config: configPath(args) },
      `Registered as ${config.agent_id} with ${config.server_url}.\nConfig: ${configPath(args)}\nNext: run "borgctl agent run" (or install the service) so the hub can give this machine work.`,
    );
  },
});
