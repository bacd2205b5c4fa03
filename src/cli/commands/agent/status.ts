/** `borgctl agent status`: identity, hub reachability, borg binaries, running job, policy. */
import { defineCommand } from "citty";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

export default defineCommand({
  meta: {
    name: "borgctl agent status",
    description:
      "Show this agent's identity, hub reachability, borg binaries, running job and policy",
  },
  args: common,
  async run({ args }) {
    const e = env(args);
    const { loadAgent, hubReachable } = await import("../../../agent/start.ts");
    const { findBorgBinaries } = await import("../../../agent/borg-binaries.ts");
    const { describePolicy } = await import("../../../agent/policy.ts");
    const { AGENT_POLICY_KEYS, agentPolicy } = await import("../../../shared/config/agent.ts");
    const { readFile } = await import("node:fs/promises");
    const agent = await guarded(() => loadAgent(configPath(args), e));
    const [hub, borgs, current] = await Promise.all([
      hubReachable(agent.config.server_url),
      findBorgBinaries(process.env.PATH),
      readFile(agent.paths.currentJobFile, "utf8").then(
        (t) => JSON.parse(t).job_id as number,
        () => null,
      ),
    ]);
    const value = {
      server_url: agent.config.server_url,
      agent_id: agent.config.agent_id,
      config: agent.configPath,
      state_dir: agent.paths.stateDir,
      hub_reachable: hub.ok,
      hub_version: hub.version ?? null,
      borg: borgs.map((b) => ({ version: b.version.raw, path: b.path })),
      running_job_id: current,
      // Every key, null when it does not limit anything, so a script need not know the defaults.
      policy: Object.fromEntries(AGENT_POLICY_KEYS.map((key) => [key, agent.config[key] ?? null])),
    };
    const [firstRule, ...moreRules] = describePolicy(agentPolicy(agent.config));
    print(
      args.json,
      value,
      [
        `agent       ${value.agent_id}`,
        `hub         ${value.server_url} (${hub.ok ? `reachable, version ${hub.version}` : `NOT reachable: ${hub.error}`})`,
        `config      ${value.config}`,
        `state       ${value.state_dir}`,
        `borg        ${value.borg.map((b) => `${b.version} (${b.path})`).join(", ") || "none found"}`,
        `running job ${current ?? "none"}`,
        `policy      ${firstRule}`,
        ...moreRules.map((rule) => `            ${rule}`),
      ].join("\n"),
    );
    if (!hub.ok) process.exitCode = 1;
  },
});
