/**
 * Passphrases this machine keeps for itself (`passphrase_location: agent`): the hub never
 * sees them. One TOML table, repository name → passphrase, in a 0600 file in the state
 * dir, rewritten atomically.
 */
import { readFile } from "node:fs/promises";
import { parse, stringify } from "smol-toml";
import { z } from "zod";
import { assertPrivateFile, writePrivateFile } from "./state.ts";

const SecretsFile = z.record(z.string(), z.string());

export class AgentSecrets {
  constructor(private readonly path: string) {}

  private async read(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
    await assertPrivateFile(this.path, "agent secrets file");
    return SecretsFile.parse(parse(text));
  }

  async get(repository: string): Promise<string | undefined> {
    return (await this.read())[repository];
  }

  async set(repository: string, passphrase: string): Promise<void> {
    const all = await this.read();
    all[repository] = passphrase;
    await writePrivateFile(this.path, stringify(all));
  }

  async remove(repository: string): Promise<boolean> {
    const all = await this.read();
    if (!(repository in all)) return false;
    delete all[repository];
    await writePrivateFile(this.path, stringify(all));
    return true;
  }
}
