/**
 * How long a gateway session may live, and how long the upstream login record it stands on is kept
 * (`upstream-sessions.ts`: what an IdP-initiated logout finds the session by).
 *
 * A session's expiry slides with use (`ttl.session` after each save), but an SSO login stands only on an upstream
 * authentication younger than `ttl.session` (`completion/sso.ts`). Without a bound, a session touched now and
 * then outlived the upstream login record (kept `ttl.session` from the login), and an IdP's logout no longer found
 * it: the RPs it had logged in kept their sessions. So:
 *
 * - a session lives at most {@link sessionLifeSeconds} (twice `ttl.session`) after the upstream authentication
 *   it stands on (oidc-provider's `loginTs`, the IdP's AuthnInstant): the last SSO, at most `ttl.session` after
 *   it, still gets a full `ttl.session`;
 * - the upstream login record is kept {@link upstreamRecordSeconds}: that life plus the interaction's (the record
 *   is written at the login response, the session at most an interaction later), so it outlives every session
 *   standing on it.
 */

interface Lifetimes {
  session: number;
  interaction: number;
}

/** The longest a session lives after the upstream authentication it stands on, in seconds. */
export const sessionLifeSeconds = (ttl: Pick<Lifetimes, 'session'>): number => 2 * ttl.session;

/** How long an upstream login record is kept, in seconds: longer than any session standing on it. */
export const upstreamRecordSeconds = (ttl: Lifetimes): number => sessionLifeSeconds(ttl) + ttl.interaction;

/**
 * oidc-provider's `ttl.Session`: `ttl.session`, cut so that the session ends {@link sessionLifeSeconds} after its
 * upstream authentication at the latest (1 second once that is past: oidc-provider takes no less).
 *
 * @example
 * ttl: { Session: sessionTtl(config.ttl) }
 */
export function sessionTtl(
  ttl: Pick<Lifetimes, 'session'>,
  now: () => number = () => Math.floor(Date.now() / 1000),
): (ctx: unknown, session: { loginTs?: unknown }) => number {
  return (_ctx, session) => {
    if (typeof session.loginTs !== 'number') return ttl.session;
    const left = session.loginTs + sessionLifeSeconds(ttl) - now();
    return Math.max(1, Math.min(ttl.session, left));
  };
}
