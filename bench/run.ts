/** `bun run bench`: every benchmark in turn. Each prints its own table with its baseline. */
for (const script of ["startup.ts", "box.ts", "hub-agents.ts", "agent-overhead.ts", "restore.ts"]) {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/${script}`], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await proc.exited) !== 0) process.exit(1);
}
