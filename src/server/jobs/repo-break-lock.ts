/** repo.break_lock on the hub: no payload block, nothing kept beyond return code and warnings. */
import type { HubJobKind } from "./kind.ts";

export const repoBreakLock: HubJobKind<"repo.break_lock"> = {
  exclusive: false,
  blocks: () => ({}),
  stored: () => ({}),
};
