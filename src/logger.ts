import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Logs on stdout at `level` (e.g. info, debug, silent): one JSON object per line, or with `format` pretty (auto: when
 * stdout is a terminal) coloured lines for a person at a terminal.
 */
export function createLogger(level: string, format: 'auto' | 'json' | 'pretty' = 'json'): Logger {
  const base = { level, base: { service: 'trtcd' } };
  if (format === 'json' || (format === 'auto' && !process.stdout.isTTY)) return pino(base);
  // Written in this thread (sync), so the last lines before an exit are not lost.
  return pino(base, pretty({ colorize: process.stdout.isTTY === true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l', singleLine: true, sync: true }));
}
