/** `borgctl agent secret set|remove`: passphrases this machine keeps itself. */
import { defineCommand } from "citty";
import { UsageError, UserError } from "../../errors.ts";
import { common, configPath, agentEnv as env, guarded, print } from "./common.ts";

const repoArg = {
  repository: {
    type: "positional",
    description: "Repository name (as in the hub)",
    required: true,
  },
} as const;

export default defineCommand({
  meta: {
    name: "borgctl agent secret",
    description: "Passphrases this machine keeps itself (never sent to the hub)",
  },
  subCommands: {
    set: defineCommand({
      meta: {
        name: "borgctl agent secret set",
        description: "Store a repository passphrase, read from standard input",
      },
      args: { ...repoArg, ...common },
      async run({ args }) {
        const e = env(args);
        const { loadAgent } = await import("../../../agent/start.ts");
        const { AgentSecrets } = await import("../../../agent/secrets.ts");
        const agent = await guarded(() => loadAgent(configPath(args), e));
        if (process.stdin.isTTY)
          process.stderr.write(
            `Passphrase for ${args.repository} (input is not hidden; end with Enter): `,
          );
        const line = (await new Response(Bun.stdin.stream()).text()).split(/\r?\n/)[0] ?? "";
        if (!line) throw new UsageError("no passphrase on standard input");
        await new AgentSecrets(agent.paths.secretsFile).set(args.repository, line);
        print(
          args.json,
          { repository: args.repository, stored: true },
          `Stored the passphrase for ${args.repository}.`,
        );
      },
    }),
    remove: defineCommand({
      meta: { name: "borgctl agent secret remove", description: "Forget a repository passphrase" },
      args: { ...repoArg, ...common },
      async run({ args }) {
        const e = env(args);
        const { loadAgent } = await import("../../../agent/start.ts");
        const { AgentSecrets } = await import("../../../agent/secrets.ts");
        const agent = await guarded(() => loadAgent(configPath(args), e));
        const removed = await new AgentSecrets(agent.paths.secretsFile).remove(args.repository);
        if (!removed) throw new UserError(`no passphrase stored for ${args.repository}`);
        print(
          args.json,
          { repository: args.repository, removed: true },
          `Removed the passphrase for ${args.repository}.`,
        );
      },
    }),
  },
});
