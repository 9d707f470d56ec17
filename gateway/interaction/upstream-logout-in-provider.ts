/**
 * RP-initiated Single Logout sent on to the IdPs (`upstream-logout.ts` has the whole): an oidc-provider middleware
 * that, once `end_session_confirm` destroyed the gateway session, sends the browser to the session's latest IdP
 * with our signed logout request, then on to the IdPs of its earlier logins (`upstream-logout-chain.ts`: audits,
 * skips, the way back). On `resume` it links the login's upstream session to the gateway session
 * (`upstream-session-records.ts`).
 */
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { mayHaveUpstreamLogin } from '../completion/finish-login.ts';
import { askNextIdp, logoutTurnsOf } from './upstream-logout-chain.ts';
import { send, type Deps } from './upstream-logout-parts.ts';
import { linkUpstreamLogin } from './upstream-session-records.ts';

/**
 * An oidc-provider middleware (installed on every generation), after the provider has answered:
 *
 * - `resume` that logged a person in: the login's upstream session is linked to the gateway session it went
 *   into (IdP-initiated logout then revokes exactly that session); a login put into a session that already stood
 *   on logins of the same person (a step-up, or a login another tab made meanwhile) keeps them findable by their
 *   IdPs' logouts, and asked by the RP-initiated logout;
 * - `end_session_confirm` that destroyed the gateway session: the upstream sessions are ended too — the browser
 *   goes to the IdP with our logout request and comes back to its protocol's `logout` route, then to the IdP of
 *   each earlier login the session stood on (one per IdP), then on to where oidc-provider was sending it.
 * A fault here is logged and leaves oidc-provider's answer as it was (the login, or the local logout, stands).
 */
export function upstreamLogoutInProvider(services: () => Deps) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'resume' && route !== 'end_session_confirm') return;
    // `new`: oidc-provider made the session in this request, the browser having sent no session cookie (a cookie
    // naming no stored session gives one that is not `new`, with a new uid and no account)
    const session = ctx.oidc.session as unknown as
      { destroyed?: boolean; uid?: unknown; new?: true; accountId?: string } | undefined;
    if (typeof session?.uid !== 'string') return;
    const deps = services();
    try {
      if (route === 'resume') {
        const loginId = ctx.oidc.entities.Interaction?.uid;
        // a login that stood on the session's earlier authentication (SSO) has no upstream record to link
        if (ctx.oidc.result?.login && typeof loginId === 'string' && mayHaveUpstreamLogin(ctx.oidc.result)) {
          // the session's earlier logins are kept only if they are this person's (upstream-sessions.ts reads the
          // person its record names): a session read from the store (a step-up; a login another tab made meanwhile)
          // may also be one two tabs log two people in on at once
          const account = ctx.oidc.result.login.accountId;
          const began = ctx.oidc.entities.Interaction?.session;
          await linkUpstreamLogin(deps, loginId, session.uid, {
            account,
            stoodBefore: !session.new,
            beganOnIt: began?.uid === session.uid && began.accountId === account,
          });
        }
        return;
      }
      if (!session.destroyed || ctx.status !== 303) return;
      const ended = { uid: session.uid, accountId: session.accountId };
      const turns = await logoutTurnsOf(ctx as unknown as Context, deps, ended, ctx.response.get('Location'));
      const start = turns ? await askNextIdp(ctx as unknown as Context, deps, turns) : null;
      if (start) send(ctx as unknown as Context, start);
    } catch (err) {
      deps.logger.warn({ err, route }, 'single logout bookkeeping failed');
    }
  };
}
