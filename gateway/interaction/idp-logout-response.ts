/**
 * The IdP's LogoutResponse to our logout request (a `logout` route, direction `response`; `upstream-logout.ts`
 * has the whole): the way back kept when the request was sent (`logout-way-back.ts`) taken by its relay value,
 * the answer verified by the adapter its sender names and audited (`UPSTREAM_LOGOUT_COMPLETED`, or
 * `UPSTREAM_LOGOUT_FAILED` with its code); the browser then goes to the next IdP of the session, if any
 * (`upstream-logout-chain.ts`), else where oidc-provider sent it, the local logout staying done. The way back unreadable (Redis failing: `FLOW_STORE_UNAVAILABLE`, 503; a value we never wrote:
 * `INTERNAL`, 500) is refused, audited `UPSTREAM_LOGOUT_FAILED` with the code; an answer refused with no way back
 * is the error page with its registry status.
 */
import type { Context } from 'koa';
import { AdapterError, type InboundLogoutMessage } from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { GatewayError } from '../errors.ts';
import { takeWayBack, wayBackError, type WayBack } from './logout-way-back.ts';
import { audit, refused } from './upstream-logout-audit.ts';
import { askNextIdp } from './upstream-logout-chain.ts';
import { adapterFor, refusal, send, type Deps } from './upstream-logout-parts.ts';

/** The next IdP of a logout with several (none left, or a fault: the browser goes back; the logout stays done). */
async function nextIdp(ctx: Context, services: Deps, back: WayBack, sessionUid: string, then: string[]) {
  try {
    return await askNextIdp(ctx, services, { sessionUid, returnTo: back.returnTo, first: null, then });
  } catch (err) {
    services.logger.warn({ err }, 'the next IdP of a logout could not be asked');
    return null;
  }
}

/**
 * The IdP's answer to our logout request, verified and audited; the browser on to where oidc-provider sent it.
 *
 * @example
 * if (direction === 'response') return logoutResponse(ctx, services, route, message);
 */
export async function logoutResponse(
  ctx: Context,
  services: Deps,
  route: LogoutRoute,
  message: InboundLogoutMessage,
): Promise<void> {
  let back: WayBack | null;
  try {
    back = await takeWayBack(services, route.correlation(message.params));
  } catch (error) {
    const failure = error instanceof GatewayError ? error : wayBackError('INTERNAL', 'way back', error);
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', undefined, failure);
    throw failure;
  }
  let idp: string | undefined = back?.idp;
  try {
    const adapter = adapterFor(services, route, message);
    idp = adapter.id;
    const { logoutId } = await adapter.logout.finishLogout(message);
    await audit(ctx, services, 'UPSTREAM_LOGOUT_COMPLETED', idp, undefined, { logoutId });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', idp, error, back ? { logoutId: back.logoutId } : {});
    if (!back) throw refusal(error, 'The logout response was refused.');
  }
  // the person's own logout happened before the IdP was asked: it stays done whatever the IdP answered
  const next = back?.then && back.sessionUid ? await nextIdp(ctx, services, back, back.sessionUid, back.then) : null;
  if (next) return send(ctx, next);
  ctx.status = 303;
  ctx.redirect(back?.returnTo ?? '/session/end/success');
}
