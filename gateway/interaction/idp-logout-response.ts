/**
 * The IdP's LogoutResponse to our logout request (a `logout` route, direction `response`; `upstream-logout.ts` has the
 * whole): the way back kept when the request was sent (`logout-way-back.ts`) read by its relay value (taken only once
 * the answer is verified), the answer verified by the adapter its sender names and audited
 * (`UPSTREAM_LOGOUT_COMPLETED`, or `UPSTREAM_LOGOUT_FAILED` with its code); the browser then goes where oidc-provider
 * sent it, the local logout staying done — or first, after a verified answer (one that ended the IdP's session, or
 * said it did not: `UnendedLogout`), to the session's next IdP (`upstream-logout-chain.ts`: only for the leg this
 * answer answers, in the browser that logged out); at the end of an IdP-initiated logout asked on
 * (`idp-logout-onward.ts`), to the IdP that began it with our answer, whatever this IdP answered (a refused answer,
 * forged maybe, takes neither the way back nor, from another browser than the one that logged out, our answer). The
 * way back unreadable (Redis failing: `FLOW_STORE_UNAVAILABLE`, 503; a value we never wrote: `INTERNAL`, 500) is
 * refused, audited `UPSTREAM_LOGOUT_FAILED` with the code; an answer refused with no way back is the error page with
 * its registry status.
 */
import type { Context } from 'koa';
import { AdapterError, UnendedLogout, type InboundLogoutMessage } from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { GatewayError } from '../errors.ts';
import { bindingKeys, browserBindings } from '../session/browser-binding.ts';
import { dropWayBack, readWayBack, takeOnward, wayBackError, type Onward, type WayBack } from './logout-way-back.ts';
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
    back = await readWayBack(services, relay);
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
    // the entry our request went through (several may share the IdP): its pending request is the one answered
    const adapter = adapterFor(services, route, message, back?.idp);
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
  // an IdP-initiated logout asked on to this IdP (`idp-logout-onward.ts`): the IdP that began it, and our answer to it.
  // The way back is taken only for a verified answer: a refused one (forged, with a relay value seen in a URL) uses
  // up nothing of the real answer's, nor, from another browser, our signed answer (attacker review, 29th round)
  if (answered && back)
    await dropWayBack(services, relay).catch((err: unknown) =>
      services.logger.warn({ err }, 'the way back of a logout could not be dropped (it expires by itself)'),
    );
  // a refused answer still ends with our answer to the IdP that began it (the local logout is done), in the browser
  // that logged out only
  // this browser's binding under the current key or one used before a rotation
  const here = browserBindings(ctx, bindingKeys(services.config.secrets), services.config.cookies);
  const kept = back
    ? await keptOnward(
        services,
        relay,
        (o) => answered !== null || (o.binding !== undefined && here.includes(o.binding)),
      )
    : null;
  const onward = answered ? await onwardFrom(ctx, services, relay, answered, kept ?? undefined) : null;
  if (onward?.start) return send(ctx, onward.start);
  // the end of it, whatever this IdP answered (the local logout is done): our answer to the IdP that began it, in
  // the browser that logged out when a chain was kept (another browser gets the way back only; the IdP's own retry
  // gets the answer, kept for it)
  if (kept?.answer && !onward?.otherBrowser) {
    await answerDelivered(ctx, services, kept.initiator);
    return send(ctx, kept.answer);
  }
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
  kept: Onward | undefined,
) {
  try {
    return await continueLogout(ctx, services, relay, answered, kept);
  } catch (err) {
    services.logger.warn({ err }, 'the next IdP of a logout could not be asked');
    return null;
  }
}

/** What an IdP-initiated logout kept with this leg (a fault: logged, none; the logout stays done). */
async function keptOnward(
  services: Deps,
  relay: string | undefined,
  mayTake: (onward: Onward) => boolean,
): Promise<Onward | null> {
  try {
    return await takeOnward(services, relay, mayTake);
  } catch (err) {
    services.logger.warn({ err }, 'the answer to an IdP that began a logout could not be read');
    return null;
  }
}

/**
 * Our answer to the IdP that began a logout asked on, sent now at last (audited `UPSTREAM_LOGOUT_ANSWERED` when it
 * was signed, before the other IdPs were asked); a failed audit is logged, the answer sent all the same.
 */
async function answerDelivered(ctx: Context, services: Deps, initiator: string): Promise<void> {
  await audit(ctx, services, 'UPSTREAM_LOGOUT_ANSWER_SENT', initiator, undefined, {}).catch((err: unknown) =>
    services.logger.warn({ err, idp: initiator }, 'the delivery of an answer to an IdP could not be audited'),
  );
}
