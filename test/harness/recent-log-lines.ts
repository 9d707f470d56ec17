/**
 * The last warning and error lines of the gateways a test process booted with `logging.level` silent: kept
 * in memory, printed only when a login ends somewhere it never should (a 500), so a failure seen once under a
 * loaded full run says what the gateway saw (its stack, the failing command) instead of only the page.
 */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../gateway/observability/logger.ts';

/** Lines kept (the newest); a login writes a few warnings at most. */
const KEPT = 60;
const lines: string[] = [];

const ring = new Writable({
  write(chunk: Buffer | string, _encoding, done) {
    for (const line of String(chunk).split('\n'))
      if (line.trim() !== '') {
        lines.push(line);
        if (lines.length > KEPT) lines.shift();
      }
    done();
  },
});

/** A logger for a test's gateway whose configuration says silent: warnings and errors kept, never printed. */
export function ringLogger(): Logger {
  return createLogger('warn', 'gateway', ring);
}

/** The kept lines, oldest first, as one block to add to a failure's message. */
export function recentLogLines(): string {
  return lines.length === 0
    ? '(the gateway logged no warning or error)'
    : `the gateway's last ${lines.length} warning/error lines:\n${lines.join('\n')}`;
}
