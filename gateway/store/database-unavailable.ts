/**
 * Whether an error means "PostgreSQL cannot be reached now" (a restart, a failover, a network cut) rather than
 * a fault of the statement: such a request is answered 503 `DATABASE_UNAVAILABLE` with Retry-After, as a
 * shed request, instead of a 500. Recognised by the shapes node-postgres gives them:
 *
 * - a server error of SQLSTATE class 08 (connection exception) or 57P (operator intervention: shutdown,
 *   `cannot_connect_now` while starting);
 * - the client's own connection errors (`Connection terminated…`, `timeout exceeded when trying to connect`);
 * - a socket error (`ECONNREFUSED`, `ECONNRESET`, …) raised by the pg client or pool (its stack names them).
 */
const SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && error.constructor.name === 'DatabaseError')
    return code.startsWith('08') || code.startsWith('57P');
  if (CLIENT_MESSAGES.some((m) => error.message.startsWith(m))) return true;
  return typeof code === 'string' && SOCKET.has(code) && /[/\\]pg(-pool)?[/\\]/.test(error.stack ?? '');
}
