/** repo.init on the agent: `borg init` (rcreate / repo-create on 2.x) with the payload's encryption. */
import { buildInitCommand } from "../../borg/commands/init.ts";
import type { AgentJobKind } from "./kind.ts";

export const repoInit: AgentJobKind<"repo.init"> = {
  readsJson: false,

  command: (features, { repository, init }) =>
    buildInitCommand(features, {
      repo: repository.location,
      encryption: init.encryption,
      appendOnly: repository.append_only,
      // A local repo's parent folder may not exist yet; on a box it always does.
      makeParentDirs: true,
    }),

  result: () => ({ ok: true, fields: {} }),
};
