/**
 * The operations listener's server (admin API, `/metrics`, `/ready`): HTTPS with the configured certificate and
 * key when `ops.tls` is set (TLS 1.2 at least), plain HTTP otherwise (loopback, or a TLS-terminating proxy on the
 * same host: `ops.acknowledgePlainHttp`; config/ops.ts refuses anything else).
 */
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { OpsConfig } from '../config/ops.ts';

/**
 * @example
 * const opsServer = createOpsServer(config.ops, gateway.opsApp.callback());
 */
export function createOpsServer(ops: Pick<OpsConfig, 'tls'>, handler: RequestListener): Server {
  if (ops.tls === undefined) return createHttpServer(SERVER_TIMEOUTS, handler);
  return createHttpsServer(
    { ...SERVER_TIMEOUTS, cert: ops.tls.cert, key: ops.tls.key, minVersion: 'TLSv1.2' },
    handler,
  );
}

/**
 * How long a request's headers (15 s) and a whole request (60 s) may take, checked every 5 s: the public listener's
 * and the operations listener's (which kept Node's 60 s / 300 s, and held a stopping gateway as long).
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 15_000,
  requestTimeout: 60_000,
  connectionsCheckingInterval: 5_000,
} as const;

/** The listener's scheme, for the URLs printed and logged. */
export const opsScheme = (ops: Pick<OpsConfig, 'tls'>): 'http' | 'https' => (ops.tls === undefined ? 'http' : 'https');
