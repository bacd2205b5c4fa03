/** repo.compact on the hub: no payload block, nothing kept beyond return code and warnings. */
import type { HubJobKind } from "./kind.ts";

export const repoCompact: HubJobKind<"repo.compact"> = {
  exclusive: false,
  blocks: () => ({}),
  stored: () => ({}),
};
