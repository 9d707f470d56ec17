/** Structured JSON logs (pino). Secrets and cookies are redacted at the source. */
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * A log call's own fields must not be named `level`, `time`, `msg`, `pid` or `hostname`: pino writes its
 * own first and JSON readers keep the last, so such a field replaces pino's (a `level` of 0 made a line
 * vanish from every level filter). `destination` (stdout when absent) lets a test read the lines.
 */
export function createLogger(level: string, name = 'gateway', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.cookie', 'req.headers.authorization', '*.client_secret', '*.pin', '*.password'],
  };
  return destination ? pino(options, destination) : pino(options);
}
