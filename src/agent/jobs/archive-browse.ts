/**
 * archive.browse on the agent: `borg list --json-lines` of the whole archive, spooled to
 * disk as it comes (listing-spool.ts), then uploaded to the hub in bounded chunks
 * (io.uploadListing) before the job completes. The result counts what was sent; a line
 * that can't be read fails the job, so the hub never caches half a listing as whole.
 */
import { buildListArchiveCommand } from "../../borg/commands/list-archive.ts";
import { ListingSpool } from "../listing-spool.ts";
import type { AgentJobKind } from "./kind.ts";

export const archiveBrowse: AgentJobKind<"archive.browse"> = {
  readsJson: false,

  command: (features, { repository, browse }) =>
    buildListArchiveCommand(features, { repo: repository.location, archive: browse.archive }),

  async watch(_payload, io, _now, tools) {
    const spool = await ListingSpool.open();
    io.progress({ progress_percent: null, phase: "listing the archive" });
    return {
      cleanup: () => spool.remove(),
      onStdoutLine: (line) => spool.add(line),
      async complete() {
        try {
          spool.close();
          if (spool.error !== undefined) return { ok: false, error: spool.error };
          const upload = io.uploadListing;
          if (!upload) return { ok: false, error: "this agent cannot upload listings" };
          let sent = 0;
          let chunks = 0;
          let bytes = 0;
          for await (const chunk of spool.chunks()) {
            if (tools.signal.aborted) return { ok: false, error: "canceled while uploading" };
            await upload(chunk);
            bytes += Buffer.byteLength(JSON.stringify(chunk));
            sent += chunk.entries.length;
            chunks++;
            io.progress({
              progress_percent: spool.count ? (sent / spool.count) * 100 : 100,
              nfiles: sent,
              phase: "uploading the listing",
            });
          }
          io.log("agent", `listing uploaded: ${sent} entries in ${chunks} chunks, ${bytes} bytes`);
          if (spool.skipped > 0) {
            io.log(
              "agent",
              `${spool.skipped} members with a path over the hub's cap were left out`,
            );
          }
          return { ok: true, fields: { entry_count: sent, chunk_count: chunks } };
        } catch (error) {
          return { ok: false, error: `uploading the listing failed: ${(error as Error).message}` };
        }
      },
    };
  },

  // Never used: watch's complete reads the result (the listing is uploaded, not returned).
  result: () => ({ ok: false, error: "the listing was not uploaded" }),
};
