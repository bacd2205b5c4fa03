/** repo.init on the hub: the repository is created with the encryption it was registered with. */
import type { HubJobKind } from "./kind.ts";

export const repoInit: HubJobKind<"repo.init"> = {
  exclusive: false,
  blocks: (repository) => ({ init: { encryption: repository.encryption } }),
  stored: () => ({}),
};
