/**
 * Refuses the authorization requests of a client whose sector identifier document, on its last refresh,
 * no longer listed every redirect URI (`SECTOR_IDENTIFIER_INVALID`, 403, rendered by http/error-handler.ts
 * with a reference). Placed after authorizationPost, so a form-posted request is a GET with a query here;
 * a PAR request is caught at its `/auth` step, which always carries `client_id`.
 */
import type { Middleware } from 'koa';
import type { SectorIdentifiers } from './sector-identifiers.ts';
import { AUTHORIZATION_PATH } from './authorization-post.ts';

export function sectorGate(sectors: Pick<SectorIdentifiers, 'assertUsable'>): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === AUTHORIZATION_PATH && typeof ctx.query.client_id === 'string')
      sectors.assertUsable(ctx.query.client_id);
    await next();
  };
}
