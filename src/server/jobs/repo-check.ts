/** repo.check on the hub: what to check comes from the request (default: repository and archives, no data verification). */
import type { HubJobKind } from "./kind.ts";

export const repoCheck: HubJobKind<"repo.check"> = {
  exclusive: false,
  blocks: (_repository, options) => ({
    check: options.check ?? { repository_only: false, verify_data: false },
  }),
  stored: () => ({}),
};
