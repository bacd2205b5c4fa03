/** `borgctl version`: what this binary is, for bug reports. */
import { defineCommand } from "citty";
import { buildInfo } from "../../shared/build-info.ts";

export default defineCommand({
  meta: { name: "borgctl version", description: "Print version, commit, runtime and platform" },
  args: {
    json: { type: "boolean", description: "Print JSON" },
  },
  run({ args }) {
    const info = { ...buildInfo(), platform: `${process.platform}-${process.arch}` };
    if (args.json) {
      console.log(JSON.stringify(info));
      return;
    }
    console.log(
      `borgctl ${info.version}\ncommit   ${info.commit}\nruntime  ${info.runtime}\nplatform ${info.platform}`,
    );
  },
});
