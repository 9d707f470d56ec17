/**
 * The upstream session of each login, for Single Logout with the IdPs (`upstream-logout.ts` has the whole): the
 * login-response route keeps the subject, format and session index of each verified login, sealed, under the
 * login id (`recordUpstreamLogin`); oidc-provider's `resume` links it to the gateway session the login went into
 * (`linkUpstreamLogin`, from `upstream-logout-in-provider.ts`), so an IdP-initiated logout revokes exactly that
 * session.
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import type { LinkedInto } from '../session/upstream-sessions.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/**
 * Called by the login-response route once a login is verified: keeps its upstream session (subject, format,
 * session index), sealed, under the login id (linked to the gateway session when oidc-provider resumes the login),
 * with the browser's binding (`binding`; undefined: the browser sent no binding cookie).
 */
export async function recordUpstreamLogin(
  services: Deps,
  loginId: string,
  identity: UpstreamIdentity,
  binding: string | undefined,
): Promise<void> {
  await upstreamSessions(services).recordLogin(
    loginId,
    {
      idp: identity.idp,
      subject: identity.subject,
      nameIdFormat: identity.nameIdFormat,
      ...(identity.sessionIndex === undefined ? {} : { sessionIndex: identity.sessionIndex }),
    },
    binding,
  );
}

/**
 * Links the upstream session recorded under `loginId` to the gateway session `sessionUid` it went into (`into`:
 * the person, and what is known of the session before: the earlier logins of the same person it stood on stay
 * findable by their IdPs' logouts, `UpstreamSessions.linkSession`).
 *
 * @example
 * await linkUpstreamLogin(deps, interactionUid, session.uid, { account, stoodBefore: !session.new, beganOnIt });
 */
export async function linkUpstreamLogin(
  services: Deps,
  loginId: string,
  sessionUid: string,
  into?: LinkedInto,
): Promise<void> {
  await upstreamSessions(services).linkSession(loginId, sessionUid, into);
}

/**
 * Starts the read of the upstream session recorded under `loginId`, which {@link linkUpstreamLogin} reads later
 * in the same request (the resumption): sent early, beside other work, instead of in a round trip of its own.
 */
export function prefetchUpstreamLogin(services: Deps, loginId: string): void {
  upstreamSessions(services).prefetchLogin(loginId);
}
