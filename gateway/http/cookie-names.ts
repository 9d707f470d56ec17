/**
 * The name of each cookie the gateway sets with `Path=/`: `__Host-` prefixed when cookies are Secure (the session,
 * browser-binding and device cookies, and the remembered language and IdP).
 *
 * A browser accepts a `__Host-` cookie only when it is Secure, has `Path=/` and no `Domain`, so no other site
 * (a sibling subdomain: `evil.example.gouv.fr` beside `connect.example.gouv.fr`) can plant or overwrite one.
 * Without the prefix a sibling can plant a cookie of the attacker's own browser in a person's browser: its
 * session cookie logs the person in to an RP as the attacker (login CSRF that the RP's `state` does not
 * stop), its binding cookie binds the person's login to a value the attacker holds.
 *
 * An http loopback development issuer cannot set Secure cookies over plain http: there, the names stay as
 * they were (`gw_bb`, `_session`, …), as a same-host sibling does not exist on a loopback address.
 *
 * `cookies.earlierNamesUntil`: until then, the un-prefixed browser-binding and device cookies an earlier version
 * set are still read (session/browser-binding.ts, risk/device-cookie.ts), for a fleet's upgrade; unset, never.
 */

/** The prefix a browser enforces: Secure, `Path=/`, no `Domain`. */
export const HOST_PREFIX = '__Host-';

/** The `cookies` section of the configuration. */
export interface CookieSettings {
  secure: boolean;
  /** Epoch milliseconds until which an earlier version's un-prefixed cookies are read; unset: never. */
  earlierNamesUntil?: number;
}

/** The name `base` has on this deployment. */
export function cookieName(base: string, secure: boolean): string {
  return secure ? `${HOST_PREFIX}${base}` : base;
}

/** oidc-provider's session cookie (its `cookies.names.session`): `__Host-_session` in deployments. */
export function sessionCookieName(secure: boolean): string {
  return cookieName('_session', secure);
}

/** Whether an earlier version's un-prefixed cookies are still read now. */
export function earlierNamesRead(cookies: CookieSettings, now: number = Date.now()): boolean {
  return cookies.earlierNamesUntil !== undefined && now < cookies.earlierNamesUntil;
}

/** What a cookie read needs of a request: its cookies and whether it came over https (the issuer's scheme). */
interface CookieRequest {
  secure: boolean;
  cookies: { get(name: string): string | undefined };
}

/**
 * A remembered preference's cookie (`__Host-gw_lang`, `__Host-gw_last_idp` in deployments): the prefixed name,
 * else, on an http issuer only, the plain one. A preference a sibling site planted under the plain name is never
 * read on an https issuer.
 *
 * @example
 * const remembered = preferenceCookie(ctx, 'gw_lang');
 */
export function preferenceCookie(ctx: CookieRequest, base: string): string | undefined {
  return ctx.cookies.get(`${HOST_PREFIX}${base}`) ?? (ctx.secure ? undefined : ctx.cookies.get(base));
}
