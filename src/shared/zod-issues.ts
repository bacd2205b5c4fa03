/**
 * zod's issues as one line for a human ("path: message; path: message (+2 more)"), for
 * error messages that name what was wrong with a document: borg's --json output
 * (borg/output.ts) or an agent's job result (server/services/job-runtime.ts).
 */
import type { z } from "zod";

export function describeIssues(issues: readonly z.core.$ZodIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > max ? ` (+${issues.length - max} more)` : "";
  return `${shown.join("; ")}${more}`;
}
