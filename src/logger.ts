import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout at `level` (e.g. info, debug, silent). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'trtcd' } });
}
