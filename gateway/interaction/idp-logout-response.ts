/**
 * The IdP's LogoutResponse to our logout request (a `logout` route, direction `response`; `upstream-logout.ts`
 * has the whole): the way back kept when the request was sent (`logout-way-back.ts`) taken by its relay value,
 * the answer verified by the adapter its sender names and audited (`UPSTREAM_LOGOUT_COMPLETED`, or
 * `UPSTREAM_LOGOUT_FAILED` with its code); the browser then goes where oidc-provider sent it, the local logout
 * staying done — or first, after a verified answer (one that ended the IdP's session, or said it did not:
 * `UnendedLogout`), to the session's next IdP (`upstream-logout-chain.ts`: only for the leg this answer answers,
 * in the browser that logged out). The way back unreadable (Redis failing: `FLOW_STORE_UNAVAILABLE`, 503; a value we never wrote:
 * `INTERNAL`, 500) is refused, audited `UPSTREAM_LOGOUT_FAILED` with the code; an answer refused with no way back
 * is the error page with its registry status.
 */
import type { Context } from 'koa';
import { AdapterError, UnendedLogout, type InboundLogoutMessage } from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { GatewayError } from '../errors.ts';
import { takeWayBack, wayBackError, type WayBack } from './logout-way-back.ts';
import { audit, refused } from './upstream-logout-audit.ts';
import { continueLogout } from './upstream-logout-chain.ts';
import { adapterFor, refusal, send, type Deps } from './upstream-logout-parts.ts';

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
  const relay = route.correlation(message.params);
  let back: WayBack | null;
  try {
    back = await takeWayBack(services, relay);
  } catch (error) {
    const failure = error instanceof GatewayError ? error : wayBackError('INTERNAL', 'way back', error);
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', undefined, failure);
    throw failure;
  }
  let idp: string | undefined = back?.idp;
  // the IdP's answer to one of our requests, verified (whether or not it ended its session)
  let answered: { idp: string; logoutId: string } | null = null;
  let refusedWith: AdapterError | null = null;
  try {
    const adapter = adapterFor(services, route, message);
    idp = adapter.id;
    const { logoutId } = await adapter.logout.finishLogout(message);
    answered = { idp, logoutId };
    await audit(ctx, services, 'UPSTREAM_LOGOUT_COMPLETED', idp, undefined, { logoutId });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    if (error instanceof UnendedLogout && idp !== undefined) answered = { idp, logoutId: error.logoutId };
    const logoutId = answered?.logoutId ?? back?.logoutId;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', idp, error, logoutId ? { logoutId } : {});
    // an answer we verified is no refusal to show: the IdP only said it did not end its session
    if (!answered) refusedWith = error;
  }
  // the person's own logout happened before the IdP was asked: it stays done whatever the IdP answered; a
  // verified answer goes on to the session's next IdP, if any
  const onward = answered ? await onwardFrom(ctx, services, relay, answered) : null;
  if (onward?.start) return send(ctx, onward.start);
  // the end of an IdP-initiated logout asked on (`idp-logout-onward.ts`): the answer to the IdP that began it
  const finish = onward ? onward.finish : back?.finish;
  if (finish) return send(ctx, finish);
  const returnTo = onward?.returnTo ?? back?.returnTo;
  if (returnTo === undefined && refusedWith) throw refusal(refusedWith, 'The logout response was refused.');
  ctx.status = 303;
  ctx.redirect(returnTo ?? '/session/end/success');
}

/** The next IdP of a logout with several (a fault: logged, the browser goes back; the logout stays done). */
async function onwardFrom(
  ctx: Context,
  services: Deps,
  relay: string | undefined,
  answered: { idp: string; logoutId: string },
) {
  try {
    return await continueLogout(ctx, services, relay, answered);
  } catch (err) {
    services.logger.warn({ err }, 'the next IdP of a logout could not be asked');
    return null;
  }
}
