import { runCli } from "./cli/root.ts";

process.exit(await runCli(process.argv.slice(2)));
