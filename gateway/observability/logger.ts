/** Structured JSON logs (pino). Secrets and cookies are redacted at the source. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, name = 'gateway'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.cookie', 'req.headers.authorization', '*.client_secret', '*.pin', '*.password'],
  });
}
