/**
 * The edge of every request: the public origin comes from configuration, never from the request.
 *
 * - the host asked for (`Host`, or `X-Forwarded-Host` when the peer is a trusted proxy) must be the
 *   issuer's host; any other host is refused with HTTP 421 `HOST_NOT_CONFIGURED` before a handler runs
 *   (a cache in front can then never store a document written for an attacker's host);
 * - `X-Forwarded-Host`, `X-Forwarded-Proto` and `Forwarded` from anyone are discarded; the request is
 *   rewritten to the issuer's host and scheme, so Koa and oidc-provider (which build discovery, redirect
 *   and endpoint URLs from `ctx.href`) can only emit configured URLs;
 * - the client address is computed once (http/client-address.ts) and becomes the only
 *   `X-Forwarded-For` entry: with `maxIpsCount = 1`, `ctx.ip` everywhere is that address.
 *
 * Exempt paths (liveness and readiness probes) are answered whatever the host, since orchestrators and
 * load balancers probe by address; they emit no URL.
 */
import type Koa from 'koa';
import type { Middleware } from 'koa';
import { GatewayError } from '../errors.ts';
import { clientAddress, type TrustedProxies } from './client-address.ts';

/** The scheme and host (with a non-default port) of the configured issuer. */
export interface PublicOrigin {
  protocol: 'http' | 'https';
  host: string;
}

/** Reads the public origin from the issuer URL. */
export function publicOrigin(issuer: string): PublicOrigin {
  const url = new URL(issuer);
  const protocol = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
  if (protocol === undefined) throw new Error(`issuer must be http(s): ${issuer}`);
  return { protocol, host: url.host.toLowerCase() };
}

/** `Host` values name the same origin with or without the scheme's default port. */
function sameHost(asked: string, origin: PublicOrigin): boolean {
  const host = asked.trim().toLowerCase();
  const defaultPort = origin.protocol === 'https' ? ':443' : ':80';
  return host === origin.host || (host.endsWith(defaultPort) && host.slice(0, -defaultPort.length) === origin.host);
}

/** The last value of a header a proxy may have appended to. */
function lastValue(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  const last = joined?.split(',').pop()?.trim();
  return last ? last : undefined;
}

/** Makes Koa (and oidc-provider, a Koa app too) read host, scheme and client address from our rewrite. */
export function trustRewrittenHeaders(app: Koa): void {
  app.proxy = true;
  app.maxIpsCount = 1;
  app.proxyIpHeader = 'X-Forwarded-For';
}

/**
 * @example
 * app.use(pinOrigin(publicOrigin(config.issuer), trustedProxies(config.trustedProxies), ['/health']));
 */
export function pinOrigin(origin: PublicOrigin, trusted: TrustedProxies, exemptPaths: readonly string[]): Middleware {
  return async (ctx, next) => {
    // only the origin form of a request target (a path): Koa takes `href` from an absolute one (`GET
    // https://elsewhere/...`), and oidc-provider builds its endpoints' URLs (discovery) from `href`
    if (!(ctx.req.url ?? '').startsWith('/'))
      throw new GatewayError('REQUEST_INVALID', 400, 'Bad request.', { detail: 'request target not in origin form' });
    const headers = ctx.req.headers;
    const peer = ctx.req.socket.remoteAddress ?? '';
    const viaProxy = trusted.has(peer);
    const asked = (viaProxy ? lastValue(headers['x-forwarded-host']) : undefined) ?? headers.host ?? '';
    const forwardedFor = viaProxy ? [headers['x-forwarded-for'] ?? []].flat().join(',') : undefined;
    const client = clientAddress(peer, forwardedFor, trusted);
    delete headers['x-forwarded-host'];
    delete headers['x-forwarded-proto'];
    delete headers.forwarded;
    headers['x-forwarded-for'] = client;
    headers['x-forwarded-proto'] = origin.protocol;
    if (!sameHost(asked, origin) && !exemptPaths.includes(ctx.path)) {
      throw new GatewayError('HOST_NOT_CONFIGURED', 421, 'This address is not served here.', {
        detail: `host ${asked.slice(0, 200)}`,
      });
    }
    headers.host = origin.host;
    return next();
  };
}
