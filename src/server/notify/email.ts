/**
 * E-mail over SMTP with nodemailer: smtp:// with STARTTLS required (the default), smtps://
 * with TLS from the first byte, or "none" for a trusted relay; AUTH with the user in
 * smtp_url and the stored password. Plain-text mail: the summary as the subject, the
 * message's facts and the hub's link in the body. An SMTP refusal is the attempt's error
 * ("535 5.7.8 Authentication failed"), redacted by the sender like every error.
 */
import { createTransport } from "nodemailer";
import type { DeliveryMessage } from "../db/records.ts";
import type { ChannelKind } from "./kind.ts";

const SUBJECT_MAX = 200;

export function mailText(message: DeliveryMessage): { subject: string; text: string } {
  const subject = `[borgctl] ${message.summary}`.replace(/[\r\n]+/g, " ").slice(0, SUBJECT_MAX);
  const lines = [message.summary, ""];
  lines.push(`Event: ${message.event}`, `When: ${message.occurred_at}`);
  if (message.machine) lines.push(`Machine: ${message.machine.name}`);
  if (message.repository) lines.push(`Repository: ${message.repository.name}`);
  if (message.plan) lines.push(`Plan: ${message.plan.name}`);
  if (message.box) lines.push(`Storage box: ${message.box.name}`);
  if (message.job) {
    lines.push(`Job: #${message.job.id} ${message.job.kind}, ${message.job.status}`);
    if (message.job.error_message) lines.push(`Error: ${message.job.error_message}`);
  }
  for (const [key, value] of Object.entries(message.details ?? {})) {
    lines.push(`${key.replaceAll("_", " ")}: ${String(value)}`);
  }
  lines.push(
    "",
    message.url
      ? `Details: ${message.url}`
      : "Details: open the hub (set public_url on the hub to get a link here).",
  );
  return { subject, text: `${lines.join("\n")}\n` };
}

export const email: ChannelKind = {
  async send({ config, secrets, message, signal, version }) {
    const url = new URL(String(config.smtp_url));
    const security =
      (config.security as "starttls" | "tls" | "none" | undefined) ??
      (url.protocol === "smtps:" ? "tls" : "starttls");
    const user = decodeURIComponent(url.username);
    const transport = createTransport({
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : security === "tls" ? 465 : 587,
      secure: security === "tls",
      requireTLS: security === "starttls",
      ignoreTLS: security === "none",
      auth: user ? { user, pass: secrets.password ?? "" } : undefined,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    const abort = () => transport.close();
    signal.addEventListener("abort", abort, { once: true });
    try {
      const { subject, text } = mailText(message);
      await transport.sendMail({
        from: String(config.from),
        to: (config.to as string[]).join(", "),
        subject,
        text,
        headers: { "X-Mailer": `borgctl/${version}` },
      });
      return { ok: true, httpStatus: null, error: null };
    } catch (error) {
      const e = error as Error & { responseCode?: number; response?: string; code?: string };
      const reason = signal.aborted ? "timed out" : (e.response ?? e.message);
      // ETLS: the server offered no STARTTLS (or the handshake failed); mail is never sent in the clear.
      const what = e.code === "ETLS" ? "STARTTLS failed (TLS is required on smtp://)" : e.code;
      return { ok: false, httpStatus: null, error: what ? `${what}: ${reason}` : reason };
    } finally {
      signal.removeEventListener("abort", abort);
      transport.close();
    }
  },
};
