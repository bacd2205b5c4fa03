/**
 * `borgctl agent register`: enroll this machine with a hub. The config it writes ends in
 * a commented agent-policy block (src/shared/config/agent.ts); a policy already in the
 * file before registering is kept (src/agent/start.ts).
 */
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
    const { describePolicy } = await import("../../../agent/policy.ts");
    const { agentPolicy } = await import("../../../shared/config/agent.ts");
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
    const policy = agentPolicy(config);
    const policyLine =
      Object.keys(policy).length > 0
        ? `Policy: ${describePolicy(policy).join("; ")}`
        : "Policy: no restrictions (to limit what any hub may make this machine do, uncomment the policy keys at the end of the config)";
    print(
      args.json,
      {
        agent_id: config.agent_id,
        server_url: config.server_url,
        config: configPath(args),
        policy,
      },
      `Registered as ${config.agent_id} with ${config.server_url}.\nConfig: ${configPath(args)}\n${policyLine}\nNext: run "borgctl agent run" (or install the service) so the hub can give this machine work.`,
    );
  },
});
