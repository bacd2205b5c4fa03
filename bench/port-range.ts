/**
 * Loopback's ephemeral ports, for a benchmark that opens tens of thousands of connections
 * from this machine to itself.
 *
 * Why: Linux's connect() looks for a free local port in `ip_local_port_range`, first
 * among the ports of one parity and only then among the rest, scanning as it goes. With
 * the default range (32768–60999, 28,232 ports) that half runs out at about 14,000
 * connections to one address, and from there every connect() scans thousands of ports
 * in the kernel: measured on a 2-core machine, clients of a bare Bun.serve went from
 * 30 % to 196 % CPU (nearly all system time) at about 16,700 connections, and heartbeats
 * timed out. That limit is the benchmark's, not the server's: a real fleet connects
 * from thousands of addresses.
 *
 * Lifecycle: `ensurePortRange(n)` before the connections are opened; when the range is
 * too small it widens it (root only, /proc/sys is written) and returns a function that
 * puts the old range back, which the caller runs when the benchmark ends. Without root
 * it throws with the exact command to run.
 */
import { readFile, writeFile } from "node:fs/promises";

const RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";
/** What a widened range becomes: above the well-known and registered ports most use. */
const WIDE_RANGE: [number, number] = [10_000, 65_000];

/** A range in which `connections` fit in the first parity's half, with room to spare. */
export function portsNeeded(connections: number): number {
  return Math.ceil(connections * 2.2);
}

export async function ensurePortRange(connections: number): Promise<() => Promise<void>> {
  const nothing = async () => {};
  const text = await readFile(RANGE_FILE, "utf8").catch(() => undefined);
  if (text === undefined) return nothing; // not Linux: no such scan to avoid
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !(high > low)) {
    throw new Error(`${RANGE_FILE}: unexpected "${text.trim()}"`);
  }
  const needed = portsNeeded(connections);
  if (high - low + 1 >= needed) return nothing;
  const wide = `${WIDE_RANGE[0]} ${WIDE_RANGE[1]}`;
  if (WIDE_RANGE[1] - WIDE_RANGE[0] + 1 < needed) {
    throw new Error(`${connections} connections to one address need ${needed} local ports`);
  }
  try {
    await writeFile(RANGE_FILE, wide);
  } catch {
    throw new Error(
      `${connections} connections need ${needed} local ports, and the range ${low}–${high} has ${high - low + 1}; run as root, or first: sudo sysctl -w net.ipv4.ip_local_port_range="${wide}"`,
    );
  }
  console.log(`local ports ${low}–${high} widened to ${WIDE_RANGE.join("–")} for this run`);
  return async () => {
    await writeFile(RANGE_FILE, `${low} ${high}`);
    console.log(`local ports back to ${low}–${high}`);
  };
}
