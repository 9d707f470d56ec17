/**
 * RP-initiated Single Logout sent on to the IdP (`upstream-logout.ts` has the whole): an oidc-provider middleware
 * that, once `end_session_confirm` destroyed the gateway session, sends the browser to the IdP with our signed
 * logout request (audited `UPSTREAM_LOGOUT_SENT`, its way back kept: `logout-way-back.ts`); an IdP that takes no
 * part is skipped, audited `UPSTREAM_LOGOUT_SKIPPED` with its adapter's `notOfferedCode`, and one whose request
 * cannot be signed now with the cause (`HSM_BUSY`, not the adapter's signing-failure code above it). On `resume`
 * it links the login's upstream session to the gateway session (`upstream-session-records.ts`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { AdapterError, type FrontChannel, type UpstreamAdapter } from '../../adapters/contract.ts';
import type { ErrorCode } from '../errors.ts';
import { mayHaveUpstreamLogin } from '../completion/finish-login.ts';
import { keepWayBack } from './logout-way-back.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';
import { audit } from './upstream-logout-audit.ts';
import { send, upstreamSessions, type Deps } from './upstream-logout-parts.ts';
import { linkUpstreamLogin } from './upstream-session-records.ts';

/**
 * An oidc-provider middleware (installed on every generation), after the provider has answered:
 *
 * - `resume` that logged a person in: the login's upstream session is linked to the gateway session it went
 *   into (IdP-initiated logout then revokes exactly that session); a login made on a session that already stood
 *   on the same person's earlier logins (a step-up) keeps those findable by their IdPs' logouts;
 * - `end_session_confirm` that destroyed the gateway session: the upstream session is ended too — the browser
 *   goes to the IdP with our logout request and comes back to its protocol's `logout` route, then on to where
 *   oidc-provider was sending it.
 * A fault here is logged and leaves oidc-provider's answer as it was (the login, or the local logout, stands).
 */
export function upstreamLogoutInProvider(services: () => Deps) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'resume' && route !== 'end_session_confirm') return;
    const session = ctx.oidc.session as unknown as { destroyed?: boolean; uid?: unknown } | undefined;
    if (typeof session?.uid !== 'string') return;
    const deps = services();
    try {
      if (route === 'resume') {
        const loginId = ctx.oidc.entities.Interaction?.uid;
        // a login that stood on the session's earlier authentication (SSO) has no upstream record to link
        if (ctx.oidc.result?.login && typeof loginId === 'string' && mayHaveUpstreamLogin(ctx.oidc.result)) {
          // a login made on this very session, by the same person (a step-up): its earlier logins stay findable
          const began = ctx.oidc.entities.Interaction?.session;
          const again = began?.uid === session.uid && began.accountId === ctx.oidc.result.login.accountId;
          await linkUpstreamLogin(deps, loginId, session.uid, again);
        }
        return;
      }
      if (!session.destroyed || ctx.status !== 303) return;
      const start = await sendToIdp(ctx as unknown as Context, deps, session.uid, ctx.response.get('Location'));
      if (start) send(ctx as unknown as Context, start);
    } catch (err) {
      deps.logger.warn({ err, route }, 'single logout bookkeeping failed');
    }
  };
}

async function sendToIdp(
  ctx: Context,
  services: Deps,
  sessionUid: string,
  returnTo: string,
): Promise<FrontChannel | null> {
  const ref = await upstreamSessions(services).ofSession(sessionUid);
  if (!ref) return null;
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
  await keepWayBack(services, relayState, { logoutId, idp: ref.idp, returnTo });
  await audit(ctx, services, 'UPSTREAM_LOGOUT_SENT', ref.idp, undefined, { logoutId, binding: start.binding });
  return start;
}
