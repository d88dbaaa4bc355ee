// A pino logger whose lines a test can read.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/logger.ts';

/** One parsed log line: pino's level number, msg and the bound fields. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** pino's level numbers. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A debug-level logger collecting its lines in `lines`. */
export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}
