/**
 * The chaos run reads the gateway processes' own log files (pino JSON lines, one file per process in the
 * bed's folder): a 503 page names no code (the error handler exposes none at or above 500), its log line
 * does, under the request id the page shows as its reference.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LOG = /^gateway-\d+\.log$/;
/** Our codes (`DATABASE_UNAVAILABLE`), not a socket's (`ECONNREFUSED`) carried by a logged error. */
const OURS = /^[A-Z0-9]+(?:_[A-Z0-9]+)+$/;

interface LogLine {
  level?: number;
  code?: string;
  requestId?: string;
  err?: { code?: unknown };
}

/** Where each log file ends now: `linesSince` reads what comes after. */
export function logOffsets(dir: string): Map<string, number> {
  return new Map(
    readdirSync(dir)
      .filter((f) => LOG.test(f))
      .map((f) => [f, statSync(join(dir, f)).size]),
  );
}

export function linesSince(dir: string, offsets: Map<string, number>): LogLine[] {
  const lines: LogLine[] = [];
  for (const name of readdirSync(dir).filter((f) => LOG.test(f))) {
    const text = readFileSync(join(dir, name))
      .subarray(offsets.get(name) ?? 0)
      .toString('utf8');
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(raw) as LogLine);
      } catch {
        // a line cut by a SIGKILL
      }
    }
  }
  return lines;
}

/** The code of a line: its own, else the code of the error it carries when that is one of ours. */
function codeOf(line: LogLine): string | undefined {
  if (typeof line.code === 'string') return line.code;
  const inner = line.err?.code;
  return typeof inner === 'string' && OURS.test(inner) ? inner : undefined;
}

/** How many lines at warn and above carried each code. */
export function codesLogged(lines: readonly LogLine[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const line of lines) {
    const code = codeOf(line);
    if (code && (line.level ?? 0) >= 40) codes[code] = (codes[code] ?? 0) + 1;
  }
  return codes;
}

/** The code logged for a request id (the reference a 503 page shows), if any. */
export function codeOfRequest(lines: readonly LogLine[], requestId: string): string | undefined {
  for (const line of lines) if (line.requestId === requestId && typeof line.code === 'string') return line.code;
  return undefined;
}
