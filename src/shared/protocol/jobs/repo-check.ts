/** repo.check: `borg check`, of the repository only or with its archives, optionally verifying data. */
import { z } from "zod";
import { defineJobKind } from "./common.ts";

export const CheckBlock = z.object({
  repository_only: z.boolean(),
  verify_data: z.boolean(),
});
export type CheckBlock = z.infer<typeof CheckBlock>;

export const repoCheck = defineJobKind("repo.check", { check: CheckBlock }, {});
