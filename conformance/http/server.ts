/**
 * A tiny node:http server for the demo IdP and RP: routes by method + path, reads bounded form bodies,
 * maps every thrown error to a page with a stable code.
 *
 * - Listens on 127.0.0.1 only.
 * - Form bodies are `application/x-www-form-urlencoded`, at most 256 KiB (`BODY_TOO_LARGE`).
 * - Errors answer with their status, an `X-Error-Code` header and an HTML page; unexposed errors say only "internal error".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConformanceError, toConformanceError } from '../errors.ts';
import { escapeHtml, page } from './html.ts';

const maxBodyBytes = 256 * 1024;

/** What a route handler receives. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The parsed form body (POST) — empty for GET. */
  form: URLSearchParams;
  /** The raw query string without `?`, exactly as sent (needed to verify HTTP-Redirect signatures). */
  rawQuery: string;
}

/** A handler for one method + path. */
export type Route = (ctx: RouteContext) => Promise<void> | void;

/** A running server. */
export interface RunningServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  stop(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 with `routes` keyed `"GET /path"`.
 *
 * @param port 0 for any free port.
 * @param routes handlers by `"<METHOD> <pathname>"`.
 * @param onError optional observer of every error (for logs).
 * @example const s = await serve(0, { 'GET /': ({ res }) => sendHtml(res, 200, '<p>hi</p>') });
 */
export async function serve(
  port: number,
  routes: Record<string, Route>,
  onError?: (error: ConformanceError) => void,
): Promise<RunningServer> {
  const server = createServer((req, res) => {
    void handle(req, res, routes).catch((thrown: unknown) => {
      const error = toConformanceError(thrown);
      onError?.(error);
      sendError(res, error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Record<string, Route>): Promise<void> {
  const rawUrl = req.url ?? '/';
  const url = new URL(rawUrl, 'http://127.0.0.1');
  const route = routes[`${req.method ?? 'GET'} ${url.pathname}`];
  if (route === undefined) {
    const known = Object.keys(routes).some((key) => key.endsWith(` ${url.pathname}`));
    throw known
      ? new ConformanceError('METHOD_NOT_ALLOWED', 405, 'method not allowed')
      : new ConformanceError('NOT_FOUND', 404, 'not found');
  }
  const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : new URLSearchParams();
  const q = rawUrl.indexOf('?');
  await route({ req, res, url, form, rawQuery: q === -1 ? '' : rawUrl.slice(q + 1) });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ConformanceError('BODY_TOO_LARGE', 413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends an HTML page, not cacheable, framing refused. */
export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
    ...headers,
  });
  res.end(html);
}

/** Sends an error page carrying the stable code in `X-Error-Code` and in the page. */
export function sendError(res: ServerResponse, error: ConformanceError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = error.expose ? error.message : 'internal error';
  sendHtml(
    res,
    error.status,
    page(
      'Something went wrong',
      `<p class="error" role="alert">${escapeHtml(message)}</p><p class="note">Error code: <code>${error.code}</code></p>`,
    ),
    { 'x-error-code': error.code },
  );
}

/** Sends a 302 redirect. */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', ...headers });
  res.end();
}
