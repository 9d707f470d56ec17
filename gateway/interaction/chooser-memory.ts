/**
 * Remembers, on this device only, the last identity provider a person chose (a first-party cookie, no
 * server-side profile): the chooser lists it first and says so. The value is an IdP id, checked against
 * the registry when read; anything else is ignored. It only changes the order of the buttons.
 */
import type { Context } from 'koa';
import { cookieName, preferenceCookie } from '../http/cookie-names.ts';

/** Base name: `__Host-gw_last_idp` in deployments (http/cookie-names.ts); a sibling site cannot plant it there. */
export const LAST_IDP_COOKIE = 'gw_last_idp';
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Records the IdP chosen (called when the chooser form is posted). */
export function rememberIdp(ctx: Context, idp: string, secure: boolean): void {
  if (!ID.test(idp)) return;
  ctx.cookies.set(cookieName(LAST_IDP_COOKIE, secure), idp, {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: '/',
    maxAge: 365 * 86_400_000,
    overwrite: true,
  });
}

/** The remembered IdP id if it is one of `known`, else undefined. */
export function lastIdp(ctx: Context, known: readonly string[]): string | undefined {
  const value = preferenceCookie(ctx, LAST_IDP_COOKIE);
  return value !== undefined && known.includes(value) ? value : undefined;
}
