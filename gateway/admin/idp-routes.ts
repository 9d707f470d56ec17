/**
 * IdP status over HTTP (issue #13 item 16), on the operations listener, to operators with the `admin`
 * role: what `node gateway/idps/cli.ts status` prints, as JSON, from this instance's metadata monitor.
 *
 * | method | path              | what                                                                 |
 * |--------|-------------------|----------------------------------------------------------------------|
 * | GET    | /admin/idps       | every IdP: availability, last attempt/success, validUntil, next refresh, failures, last error, key fingerprints |
 * | GET    | /admin/idps/:id   | one IdP (404 `IDP_UNKNOWN`)                                          |
 *
 * Detail strings of errors stay in the logs: `lastError` carries its code and time only.
 */
import type { Middleware } from 'koa';
import type { IdpStatus } from '../../adapters/metadata/monitor.ts';
import { GatewayError } from '../errors.ts';
import type { Operators } from './operator-auth.ts';

const ONE = /^\/admin\/idps\/([A-Za-z0-9_.:-]{1,128})$/;

/** What the API shows of a status (no free-text details). */
function shown(status: IdpStatus): Omit<IdpStatus, 'lastError'> & { lastError?: { code: string; at: string } } {
  const { lastError, ...rest } = status;
  return { ...rest, ...(lastError ? { lastError: { code: lastError.code, at: lastError.at } } : {}) };
}

/**
 * @example
 * app.use(idpRoutes(() => monitor.status(), operators));
 */
export function idpRoutes(status: () => readonly IdpStatus[], operators: Operators): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/admin/idps' && !ctx.path.startsWith('/admin/idps/')) return next();
    operators.authenticate(ctx, 'admin');
    if (ctx.method !== 'GET') {
      ctx.status = 405;
      ctx.set('Allow', 'GET');
      return;
    }
    if (ctx.path === '/admin/idps') {
      ctx.body = status().map(shown);
      return;
    }
    const id = ONE.exec(ctx.path)?.[1];
    const found = id === undefined ? undefined : status().find((s) => s.id === id);
    if (!found) throw new GatewayError('IDP_UNKNOWN', 404, 'no such identity provider');
    ctx.body = shown(found);
  };
}
