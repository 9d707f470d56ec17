/**
 * Binds a login to the browser that started it. A random value lives in an HttpOnly cookie; adapters see
 * only HMAC(key, value), so a SAML response obtained in one browser cannot finish a login started in
 * another (SAML-IRT-03). The cookie is SameSite=None; Secure in deployments (the IdP posts back
 * cross-site) and SameSite=Lax on an http loopback development issuer (same site, no TLS).
 *
 * In deployments the cookie is `__Host-gw_bb` (http/cookie-names.ts): a sibling subdomain cannot plant the
 * value of the attacker's own browser in a person's browser, which would bind the person's login to a value
 * the attacker holds. Its HMAC has a label of its own (`browser-binding-v2`), so a value copied into the
 * un-prefixed name binds nothing.
 *
 * The un-prefixed `gw_bb` an earlier version set is still read, with its own label (`-v1`), only to finish
 * what that version began: a login, or a logout chain, in flight on a fleet being upgraded. No binding this
 * version stores has that label (on a secure deployment), so once the older instances are gone the old
 * name matches nothing; a new login never takes its value.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { cookieName } from '../http/cookie-names.ts';

/** The cookie's base name; `__Host-gw_bb` in deployments. */
export const BINDING_COOKIE = 'gw_bb';
const VALUE = /^[A-Za-z0-9_-]{43}$/;
const LABEL = { prefixed: 'browser-binding-v2', plain: 'browser-binding-v1' } as const;

function hmac(key: string, label: string, value: string): string {
  return createHmac('sha256', key).update(`${label}\u0000${value}`).digest('base64url');
}

function read(ctx: Context, name: string): string | undefined {
  const value = ctx.cookies.get(name);
  return value !== undefined && VALUE.test(value) ? value : undefined;
}

/**
 * The binding of this request's browser: HMAC of its cookie's value. `create`: when it has none, a new value
 * is set on the response (the start of a login or logout chain); otherwise undefined.
 */
export function browserBinding(ctx: Context, key: string, secure: boolean, create: boolean): string | undefined {
  const name = cookieName(BINDING_COOKIE, secure);
  const label = secure ? LABEL.prefixed : LABEL.plain;
  const value = read(ctx, name);
  if (value !== undefined) return hmac(key, label, value);
  if (!create) {
    const earlier = secure ? read(ctx, BINDING_COOKIE) : undefined;
    return earlier === undefined ? undefined : hmac(key, LABEL.plain, earlier);
  }
  const fresh = randomBytes(32).toString('base64url');
  ctx.cookies.set(name, fresh, {
    httpOnly: true,
    secure,
    sameSite: secure ? 'none' : 'lax',
    path: '/',
    overwrite: true,
  });
  return hmac(key, label, fresh);
}
