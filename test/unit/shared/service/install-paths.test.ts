import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { parseArgs } from "citty";
import { defaultStateDir } from "../../../../src/agent/state.ts";
import serverCommand from "../../../../src/cli/commands/server.ts";
import { defaultDataDir } from "../../../../src/shared/config/common.ts";
import { HUB_CONFIG_FIELDS, hubConfigSchema } from "../../../../src/shared/config/hub.ts";
import { loadConfig } from "../../../../src/shared/config/load.ts";
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
import { renderServerUnit } from "../../../../src/shared/service/server-unit.ts";

const INSTALL_SH = join(import.meta.dir, "../../../../install.sh");

/** The flags `borgctl server` parses (citty lets a command give them lazily). */
const serverArgs = async () =>
  typeof serverCommand.args === "function" ? serverCommand.args() : serverCommand.args;

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

  test("the hub's data dir is its own, not the parent of root's agent state", async () => {
    // Both sides come from the code that creates them, so moving either one without the
    // other fails here: the hub user owns (and its unit may write) its data dir, and an
    // owner of a parent of root's agent state could swap the directory that holds root's
    // agent key.
    const script = await readFile(INSTALL_SH, "utf8");

    // Root's agent state: the agent's own default as root on Linux, and what install.sh
    // passes to `agent register --state-dir`.
    const agentState = defaultStateDir({ platform: "linux", uid: 0, home: "/root", env: {} });
    expect(/\nAGENT_STATE=(\S+)\n/.exec(script)?.[1]).toBe(agentState);

    // The hub's side: the dir setup_server chowns to the hub user and passes to
    // `server service print --data-dir`, and what a hub started by that unit (or by the
    // unit's defaults) resolves as its data dir and may write.
    const installerData = /\nsetup_server\(\) \{\n\s*local data="\$\{DATA_DIR:-([^}]+)\}"/.exec(
      script,
    )?.[1];
    expect(installerData).toBeDefined();
    const hubDirs = [installerData as string];
    for (const unit of [renderServerUnit({ dataDir: installerData }), renderServerUnit()]) {
      const setting = (name: string) =>
        unit
          .split("\n")
          .find((line) => line.startsWith(`${name}=`))
          ?.slice(name.length + 1) ?? "";
      // `<binary> server --data-dir …` (unit paths never hold spaces: unitPath refuses
      // them), parsed with the server command's own flags and resolved by the hub's own
      // config loader, as `borgctl server` does at start. The flag wins over any home or
      // environment, so neither matters here.
      const [, role, ...rawArgs] = setting("ExecStart").split(" ");
      expect(role).toBe("server");
      const flags = parseArgs(rawArgs, (await serverArgs()) ?? {});
      const config = await loadConfig(
        hubConfigSchema("/nonexistent", defaultDataDir({}, "linux", "/nonexistent")),
        HUB_CONFIG_FIELDS,
        { role: "server", env: {}, flags },
      );
      hubDirs.push(config.data_dir);
      // "-/path" only relaxes a missing path; it is still writable.
      for (const path of setting("ReadWritePaths").split(" ")) hubDirs.push(path.replace(/^-/, ""));
    }
    // An unparsed setting would leave "" or a relative path, which proves nothing below.
    expect(hubDirs.filter((dir) => !isAbsolute(dir))).toEqual([]);

    const within = (outer: string, inner: string) => {
      const path = relative(outer, inner);
      return path === "" || (!path.startsWith("..") && !isAbsolute(path));
    };
    for (const dir of hubDirs) {
      expect({ dir, holdsAgentState: within(dir, agentState) }).toEqual({
        dir,
        holdsAgentState: false,
      });
      expect({ dir, insideAgentState: within(agentState, dir) }).toEqual({
        dir,
        insideAgentState: false,
      });
    }
  });
});
