/**
 * How long a gateway session may live, and how long the upstream login record it stands on is kept
 * (`upstream-sessions.ts`: what an IdP-initiated logout finds the session by).
 *
 * A session's expiry slides with use (`ttl.session` after each save), but an SSO login stands only on an upstream
 * authentication younger than `ttl.session` (`completion/sso.ts`). Without a bound, a session touched now and
 * then outlived the upstream login record (kept `ttl.session` from the login), and an IdP's logout no longer found
 * it: the RPs it had logged in kept their sessions. So:
 *
 * - a request that logs a person in (upstream or SSO) gives the session a whole `ttl.session`, whatever the age of
 *   the IdP's AuthnInstant (an IdP may answer with an authentication of hours ago);
 * - any other use slides it only up to {@link sessionLifeSeconds} (twice `ttl.session`) after the upstream
 *   authentication it stands on (oidc-provider's `loginTs`, the IdP's AuthnInstant), and never shortens what an
 *   earlier save gave: the last SSO, at most `ttl.session` after that authentication, still gets a whole
 *   `ttl.session`; a session standing on an old authentication lives `ttl.session` from its login;
 * - the upstream login record is kept {@link upstreamRecordSeconds} from the login's link to its session (the
 *   resumption, the request that logs in): that life, plus the interaction's, plus the largest clock skew an
 *   adapter accepts (an AuthnInstant may be that much in the future), so it outlives every session standing on it.
 */

interface Lifetimes {
  session: number;
  interaction: number;
}

/** The largest clock skew an upstream adapter accepts (adapters/saml/config.ts `clockSkewSeconds`: 0..300). */
export const CLOCK_SKEW_ALLOWANCE_SECONDS = 300;

/** The longest a session slides after the upstream authentication it stands on, in seconds. */
export const sessionLifeSeconds = (ttl: Pick<Lifetimes, 'session'>): number => 2 * ttl.session;

/** How long an upstream login record is kept, in seconds: longer than any session standing on it. */
export const upstreamRecordSeconds = (ttl: Lifetimes): number =>
  sessionLifeSeconds(ttl) + ttl.interaction + CLOCK_SKEW_ALLOWANCE_SECONDS;

/**
 * The longest any record of the session store lives, in seconds (how far ahead its day partitions are made):
 * the upstream login records, or a token or grant configured to live longer.
 */
export const longestRecordSeconds = (
  ttl: Lifetimes & { grant: number; accessToken: number; refreshToken: number },
): number => Math.max(upstreamRecordSeconds(ttl), ttl.session, ttl.grant, ttl.accessToken, ttl.refreshToken);

/** What oidc-provider hands `ttl.Session`: the request (a login's result, when it logs in) and the session. */
type Request = { oidc?: { result?: { login?: unknown } } } | undefined;
type SessionTimes = { loginTs?: unknown; exp?: unknown };

/**
 * oidc-provider's `ttl.Session` (see the header): a whole `ttl.session` for a request that logs in; for any other,
 * `ttl.session` cut to {@link sessionLifeSeconds} after the upstream authentication, but never shorter than what
 * the session has left (1 second at least: oidc-provider takes no less).
 *
 * @example
 * ttl: { Session: sessionTtl(config.ttl) }
 */
export function sessionTtl(
  ttl: Pick<Lifetimes, 'session'>,
  now: () => number = () => Math.floor(Date.now() / 1000),
): (ctx: Request, session: SessionTimes) => number {
  return (ctx, session) => {
    const { loginTs, exp } = session;
    if (ctx?.oidc?.result?.login !== undefined || !isTime(loginTs)) return ttl.session;
    const at = now();
    const slid = Math.min(ttl.session, loginTs + sessionLifeSeconds(ttl) - at);
    const left = isTime(exp) ? exp - at : 0;
    return Math.max(1, slid, left);
  };
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
