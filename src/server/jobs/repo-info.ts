/** repo.info on the hub: no payload block, nothing kept beyond return code and warnings. */
import type { HubJobKind } from "./kind.ts";

export const repoInfo: HubJobKind<"repo.info"> = {
  exclusive: false,
  blocks: () => ({}),
  stored: () => ({}),
};
