/**
 * archive.download on the agent: `borg extract --stdout` of one file, its bytes gathered
 * into chunks of MAX_DOWNLOAD_CHUNK_BYTES and sent to the hub in order (io.uploadDownload)
 * while borg runs. A send resolves only once the hub handed the chunk to the browser;
 * while one is in flight borg fills the next, and then its stdout is not read until the
 * first is answered, so borg waits at a full pipe: at most two chunks are held here,
 * whatever the file's size. More bytes than the listing's size (the
 * Content-Length the browser was promised) or fewer fail the job; so does a chunk the
 * hub refuses, which also stops borg; a cancel (the hub's answer when the browser went
 * away) stops the sending at once.
 */
import { buildExtractToStdoutCommand } from "../../borg/commands/extract.ts";
import { MAX_DOWNLOAD_CHUNK_BYTES } from "../../shared/protocol/agent.ts";
import type { AgentJobKind } from "./kind.ts";

export const archiveDownload: AgentJobKind<"archive.download"> = {
  readsJson: false,

  command: (features, { repository, download }) =>
    buildExtractToStdoutCommand(features, {
      repo: repository.location,
      archive: download.archive,
      path: download.path,
    }),

  async watch({ download }, io, _now, tools) {
    const upload = io.uploadDownload;
    if (!upload) return { refuse: "this agent cannot send downloads" };
    const chunkBytes = Math.min(MAX_DOWNLOAD_CHUNK_BYTES, Math.max(download.size, 1));
    // Two buffers: borg fills one while the other is on its way, so borg and the network
    // overlap; a third chunk waits for the hub's answer to the one in flight.
    // The one not being filled is in flight (or done): send() waits for it before a swap.
    let spare = new Uint8Array(chunkBytes);
    let buffer = new Uint8Array(chunkBytes);
    let filled = 0;
    let queued = 0;
    let sent = 0;
    let inFlight: Promise<void> | undefined;
    const settle = async () => {
      await inFlight;
      inFlight = undefined;
    };
    const send = async () => {
      await settle();
      if (filled === 0) return;
      const bytes = buffer.subarray(0, filled);
      const offset = queued;
      queued += filled;
      [buffer, spare] = [spare, buffer];
      filled = 0;
      inFlight = upload(offset, bytes).then(() => {
        sent += bytes.length;
        io.progress({
          progress_percent: download.size > 0 ? (sent / download.size) * 100 : 100,
          phase: "sending the file",
        });
      });
      // Seen at the next settle; until then nobody waits on it.
      inFlight.catch(() => {});
    };
    io.progress({ progress_percent: 0, phase: "finding the file in the archive" });
    return {
      async onStdoutChunk(chunk) {
        // borg answers SIGINT by finishing the current file, which is this one: stop
        // sending at once instead (the browser is gone, or the user canceled).
        if (tools.signal.aborted) throw new Error("canceled");
        if (queued + filled + chunk.length > download.size) {
          throw new Error(
            `borg gave more than the ${download.size} bytes the archive's listing says "/${download.path}" has`,
          );
        }
        for (let at = 0; at < chunk.length; ) {
          const taken = Math.min(buffer.length - filled, chunk.length - at);
          buffer.set(chunk.subarray(at, at + taken), filled);
          filled += taken;
          at += taken;
          if (filled === buffer.length) await send();
        }
      },
      async complete() {
        try {
          await send();
          await settle();
        } catch (error) {
          return { ok: false, error: `sending the file failed: ${(error as Error).message}` };
        }
        if (sent !== download.size) {
          return {
            ok: false,
            error: `borg gave ${sent} bytes of "/${download.path}", its listing says ${download.size}`,
          };
        }
        io.log("agent", `sent "/${download.path}": ${sent} bytes`);
        return { ok: true, fields: { bytes: sent } };
      },
      async cleanup() {
        await inFlight?.catch(() => {});
      },
    };
  },

  // Never used: watch's complete reads the result (the bytes went to the hub, not stdout's capture).
  result: () => ({ ok: false, error: "the file was not sent" }),
};
