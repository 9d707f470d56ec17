/**
 * Requests Node's HTTP parser refuses before the gateway sees them — a request line or headers over its
 * 16 KiB limit (a huge query string: an `id_token_hint`, a `SAMLRequest` by HTTP-Redirect), a malformed
 * request, headers that never finish — were answered with a bare status line and no code. They are answered
 * here like every other refusal (issue #15): the registered code on a small page, `Cache-Control: no-store`, the
 * headers every page has (never framed, sniffed or referred from),
 * the connection closed, a log line.
 *
 * | parser error               | status | code               |
 * |----------------------------|--------|--------------------|
 * | `HPE_HEADER_OVERFLOW`      | 431    | REQUEST_TOO_LARGE  |
 * | `ERR_HTTP_REQUEST_TIMEOUT` | 408    | REQUEST_TIMEOUT    |
 * | `ECONNRESET`               | —      | the peer left: the socket is destroyed, nothing to answer |
 * | any other (`HPE_*`, ...)   | 400    | REQUEST_INVALID (a request that could not be read) |
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { errorSpec } from '../error-registry.ts';
import type { ErrorCode } from '../errors.ts';
import { escapeHtml, page } from './html.ts';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** What a parser error is answered with; null: nobody is left to answer. */
export function clientErrorAnswer(errorCode: string | undefined): { status: number; code: ErrorCode } | null {
  if (errorCode === 'ECONNRESET') return null;
  if (errorCode === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'REQUEST_TOO_LARGE' };
  if (errorCode === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT' };
  return { status: 400, code: 'REQUEST_INVALID' };
}

/** The raw HTTP/1.1 response of a refusal the parser made (French, the default language, like the error page). */
export function clientErrorResponse(status: number, code: ErrorCode): string {
  const body = page(
    'Requête refusée',
    `<h1>Requête refusée</h1>
<p>${escapeHtml(errorSpec(code).fr)}</p>
<p>Code : <code>${escapeHtml(code)}</code>.</p>`,
    'fr',
  );
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\n` +
    'Content-Type: text/html; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\n' +
    // the headers security-headers.ts gives every other page: this one is never framed, sniffed or referred from
    'X-Content-Type-Options: nosniff\r\n' +
    'X-Frame-Options: DENY\r\n' +
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'\r\n" +
    'Referrer-Policy: no-referrer\r\n' +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Installs the answers above on `server` (the gateway's listener and the operations listener). */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(error.code);
    // a response already begun on this socket (an early 413 or 429 while the client still sends its body): a second
    // one would land after it; the connection is closed instead
    const begun = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (answer === null || !socket.writable || begun) {
      socket.destroy();
      return;
    }
    logger.warn({ code: answer.code, detail: error.code }, 'request refused by the HTTP parser');
    socket.end(clientErrorResponse(answer.status, answer.code));
  });
}
