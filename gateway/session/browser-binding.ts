/**
 * Binds a login to the browser that started it. A random value lives in an HttpOnly cookie; adapters see
 * only HMAC(key, value), so a SAML response obtained in one browser cannot finish a login started in
 * another (SAML-IRT-03). The cookie is SameSite=None; Secure in deployments (the IdP posts back
 * cross-site) and SameSite=Lax on an http loopback development issuer (same site, no TLS).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'koa';

export const BINDING_COOKIE = 'gw_bb';

export function browserBinding(ctx: Context, key: string, secure: boolean, create: boolean): string | undefined {
  let value = ctx.cookies.get(BINDING_COOKIE);
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    if (!create) return undefined;
    value = randomBytes(32).toString('base64url');
    ctx.cookies.set(BINDING_COOKIE, value, {
      httpOnly: true,
      secure,
      sameSite: secure ? 'none' : 'lax',
      path: '/',
      overwrite: true,
    });
  }
  return createHmac('sha256', key).update(`browser-binding-v1\u0000${value}`).digest('base64url');
}
