import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AGENT_LAUNCHD_LABEL,
  AGENT_UNIT,
  BINARY_PATH,
  BOX_DEFAULTS,
  BOX_UNIT,
  CONFIG_DIR,
  SERVER_DEFAULTS,
  SERVER_UNIT,
  SYSTEMD_UNIT_DIR,
} from "../../../../src/shared/service/install-paths.ts";

const INSTALL_SH = join(import.meta.dir, "../../../../install.sh");

describe("install paths", () => {
  test("install.sh uses the same layout as the binary's service commands", async () => {
    const script = await readFile(INSTALL_SH, "utf8");
    expect(script).toContain(`BIN=${BINARY_PATH}\n`);
    expect(script).toContain(`CONF_DIR=${CONFIG_DIR}\n`);
    expect(script).toContain(`UNIT_DIR=${SYSTEMD_UNIT_DIR}\n`);
    for (const unit of [BOX_UNIT, SERVER_UNIT, AGENT_UNIT]) expect(script).toContain(unit);
    expect(script).toContain(`${AGENT_LAUNCHD_LABEL}.plist`);
    expect(script).toContain(`local home="\${HOME_DIR:-${BOX_DEFAULTS.home}}"`);
    expect(script).toContain(`ensure_user ${BOX_DEFAULTS.user} `);
    expect(script).toContain(`local data="\${DATA_DIR:-${SERVER_DEFAULTS.dataDir}}"`);
    expect(script).toContain(`ensure_user ${SERVER_DEFAULTS.user} `);
    expect(BOX_DEFAULTS.envFile).toBe(`${CONFIG_DIR}/box.env`);
    expect(SERVER_DEFAULTS.envFile).toBe(`${CONFIG_DIR}/server.env`);
  });

  test("the hub's data dir is its own, not the parent of root's agent state", () => {
    expect(SERVER_DEFAULTS.dataDir).not.toBe("/var/lib/borgctl");
    expect("/var/lib/borgctl/agent".startsWith(`${SERVER_DEFAULTS.dataDir}/`)).toBe(false);
  });
});
