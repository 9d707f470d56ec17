/**
 * An RP-initiated logout asks every IdP behind the session, one after the other (`upstream-logout.ts` has the
 * whole): a session that stood on logins at several IdPs (a step-up at another IdP keeps the earlier logins
 * linked: `UpstreamSessions.linkSession`) is ended at each of them, its latest login's IdP first. The browser goes
 * to one IdP at a time with our signed logout request; the IdPs still to ask ride in the way back
 * (`logout-way-back.ts`, by login id only: no identity in Redis in clear), and the IdP's answer sends the browser on
 * to the next (`idp-logout-response.ts`), then to where oidc-provider was sending it.
 *
 * An IdP that takes no part is skipped, audited `UPSTREAM_LOGOUT_SKIPPED` with its adapter's `notOfferedCode`; one
 * whose request cannot be signed now with the cause (`HSM_BUSY`, not the adapter's signing-failure code above it).
 * Either way the next one is asked. A login whose record is gone (expired) or cannot be read is passed over: the
 * person's own logout is done already and stays done.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import {
  AdapterError,
  type FrontChannel,
  type UpstreamAdapter,
  type UpstreamSessionRef,
} from '../../adapters/contract.ts';
import type { ErrorCode } from '../errors.ts';
import { keepWayBack } from './logout-way-back.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';
import { audit } from './upstream-logout-audit.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/** The IdPs of one logout still to ask: `first` now (when known), then the logins `then` names, in that order. */
export interface LogoutTurns {
  sessionUid: string;
  returnTo: string;
  first: UpstreamSessionRef | null;
  then: string[];
}

/**
 * The first IdP of the session's logout to ask (its latest login's), the others after it: null when the session
 * stood on no upstream login.
 */
export async function logoutTurnsOf(services: Deps, sessionUid: string, returnTo: string): Promise<LogoutTurns | null> {
  const found = await upstreamSessions(services).logoutsOf(sessionUid);
  return found ? { sessionUid, returnTo, first: found.latest, then: found.earlier } : null;
}

/**
 * Asks the next IdP that takes part and can be asked now: the browser's way there (null: none is left), the
 * IdPs after it kept in its way back.
 */
export async function askNextIdp(ctx: Context, services: Deps, turns: LogoutTurns): Promise<FrontChannel | null> {
  const then = [...turns.then];
  let ref = turns.first;
  for (;;) {
    if (ref) {
      const start = await askIdp(ctx, services, ref, { ...turns, then });
      if (start) return start;
    }
    const loginId = then.shift();
    if (loginId === undefined) return null;
    ref = await upstreamSessions(services)
      .loginOf(loginId, turns.sessionUid)
      .catch((err: unknown) => {
        services.logger.warn({ err }, 'an earlier login of the session could not be read for its logout');
        return null;
      });
  }
}

async function askIdp(
  ctx: Context,
  services: Deps,
  ref: UpstreamSessionRef,
  after: Pick<LogoutTurns, 'sessionUid' | 'returnTo' | 'then'>,
): Promise<FrontChannel | null> {
  const skipped = (code: ErrorCode, detail?: string) =>
    audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', ref.idp, code, detail ? { detail } : {}).then(() => null);
  let adapter: UpstreamAdapter;
  try {
    adapter = services.adapters.get(ref.idp);
  } catch {
    return skipped('ADAPTER_UNKNOWN');
  }
  const logout = adapter.logout;
  if (!logout.offered) return skipped(logout.notOfferedCode, logout.reason);
  const logoutId = randomUUID();
  const relayState = randomBytes(24).toString('base64url');
  let start: FrontChannel | null;
  try {
    start = await logout.startLogout({ logoutId, relayState, session: ref });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    // the cause, not the adapter's wrapper: an HSM busy under its signing-failure code is recorded `HSM_BUSY`
    return skipped(unavailableCodeWithin(error) ?? error.code, error.detail);
  }
  if (!start) return skipped(logout.notOfferedCode, 'the IdP lists no logout endpoint');
  // a logout with one IdP keeps the way back of the versions before the chain (a rolling upgrade reads it)
  const chain = after.then.length > 0 ? { sessionUid: after.sessionUid, then: after.then } : {};
  await keepWayBack(services, relayState, { logoutId, idp: ref.idp, returnTo: after.returnTo, ...chain });
  await audit(ctx, services, 'UPSTREAM_LOGOUT_SENT', ref.idp, undefined, {
    logoutId,
    binding: start.binding,
    ...(after.then.length > 0 ? { idpsAfter: after.then.length } : {}),
  });
  return start;
}
