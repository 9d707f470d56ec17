/**
 * The upstream session of each login, for Single Logout with the IdPs (`upstream-logout.ts` has the whole): the
 * login-response route keeps the subject, format and session index of each verified login, sealed, under the
 * login id (`recordUpstreamLogin`); oidc-provider's `resume` links it to the gateway session the login went into
 * (`linkUpstreamLogin`, from `upstream-logout-in-provider.ts`), so an IdP-initiated logout revokes exactly that
 * session.
 */
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/**
 * Called by the login-response route once a login is verified: keeps its upstream session (subject, format,
 * session index), sealed, under the login id (linked to the gateway session when oidc-provider resumes the login).
 */
export async function recordUpstreamLogin(services: Deps, loginId: string, identity: UpstreamIdentity): Promise<void> {
  await upstreamSessions(services).recordLogin(loginId, {
    idp: identity.idp,
    subject: identity.subject,
    nameIdFormat: identity.nameIdFormat,
    ...(identity.sessionIndex === undefined ? {} : { sessionIndex: identity.sessionIndex }),
  });
}

/**
 * Links the upstream session recorded under `loginId` to the gateway session `sessionUid` it went into (`again`:
 * a login made on that session by the same person, whose earlier logins stay findable by their IdPs' logouts).
 *
 * @example
 * await linkUpstreamLogin(deps, interactionUid, session.uid);
 */
export async function linkUpstreamLogin(
  services: Deps,
  loginId: string,
  sessionUid: string,
  again = false,
): Promise<void> {
  await upstreamSessions(services).linkSession(loginId, sessionUid, again);
}

/**
 * Starts the read of the upstream session recorded under `loginId`, which {@link linkUpstreamLogin} reads later
 * in the same request (the resumption): sent early, beside other work, instead of in a round trip of its own.
 */
export function prefetchUpstreamLogin(services: Deps, loginId: string): void {
  upstreamSessions(services).prefetchLogin(loginId);
}
