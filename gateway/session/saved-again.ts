/**
 * What tells a record saved again from one saved unchanged (`SessionStore`'s check before a write): oidc-provider
 * saves a session at the end of every request that read it, only to slide its expiry, and an SSO login saves the
 * session's grant again as read. The payloads are compared in a canonical JSON form, the expiries within bounds.
 */

/**
 * How much later (seconds) a session re-saved unchanged may expire before its expiry is written: a
 * twentieth of its life, at most 5 minutes (8 h sessions: 5 minutes).
 */
export const slidingTolerance = (expiresIn: number): number => Math.min(300, expiresIn / 20);

/** A payload's JSON, object keys sorted (oidc-provider does not keep their order across saves). */
export const canonical = (payload: unknown): string =>
  JSON.stringify(payload, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
/** A payload's JSON without its `exp`, object keys sorted. */
export const withoutExpiry = (payload: unknown): string => canonical({ ...(payload as object), exp: undefined });

/**
 * How far (ms) a grant saved again unchanged, `exp` included, may be asked to expire from the expiry of its
 * stored row: oidc-provider saves it for the seconds left until its `exp`, so the two differ by the rounding of
 * those seconds and the time between the two saves, never more.
 */
export const SAME_EXPIRY_MS = 2000;
