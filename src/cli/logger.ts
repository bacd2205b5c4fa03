/** The logger every command builds the same way: its level, colour only for a terminal without NO_COLOR. */
import { colorWanted, createLogger, type Logger, type LogLevel } from "../shared/log.ts";

export function commandLogger(level: LogLevel, tag: string): Logger {
  return createLogger({
    level,
    color: colorWanted(process.env, Boolean(process.stderr.isTTY)),
    tag,
  });
}
