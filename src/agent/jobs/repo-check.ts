/** repo.check on the agent: `borg check`, of the repository only or with archives, optionally verifying data. */
import { buildCheckCommand } from "../../borg/commands/check.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoCheck: AgentJobKind<"repo.check"> = {
  readsJson: false,

  command: (features, { repository, check }) =>
    buildCheckCommand(features, {
      repo: repository.location,
      repositoryOnly: check.repository_only,
      verifyData: check.verify_data,
    }),

  result: () => ({ ok: true, fields: {} }),
};
