/**
 * Structured JSON logs (pino) on standard output. Secrets and cookies are redacted at the source, and an error's
 * Redis command loses its arguments (log-errors.ts).
 *
 * Lines are written in batches (issue #14): pino's default destination hands every line to a write of its
 * own on libuv's thread pool as soon as the previous one is done, which at a few lines per request cost
 * more CPU than the line itself (a thread hand-off and a system call each). Here lines are written once
 * {@link BATCH_BYTES} have gathered or every {@link FLUSH_MS} ms, whichever comes first, and synchronously at
 * exit (pino's exit hook, also on an uncaught exception). What a SIGKILL can lose is at most the last
 * {@link FLUSH_MS} ms of lines: nothing the gateway must keep is only in the log (the audit trail is in
 * PostgreSQL, with its fsync'd spool and anchor file, `gateway/audit/`).
 *
 * A log call's own fields must not be named `level`, `time`, `msg`, `pid` or `hostname`: pino writes its
 * own first and JSON readers keep the last, so such a field replaces pino's (a `level` of 0 made a line
 * vanish from every level filter).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { serializeError } from './log-errors.ts';

/** Bytes gathered before a write (~15 request lines). */
export const BATCH_BYTES = 4096;
/** Longest a line waits in the batch on a quiet gateway, in ms. */
export const FLUSH_MS = 200;

/** `destination` (batched stdout when absent) lets a test read the lines. */
export function createLogger(level: string, name = 'gateway', destination?: DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['req.headers.cookie', 'req.headers.authorization', '*.client_secret', '*.pin', '*.password'],
      // an error's Redis command keeps its name, never its arguments (a password, a code, a record: log-errors.ts)
      serializers: { err: serializeError, error: serializeError },
    },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES, periodicFlush: FLUSH_MS }),
  );
}
