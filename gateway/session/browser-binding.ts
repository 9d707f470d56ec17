/**
 * Binds a login to the browser that started it. A random value lives in an HttpOnly cookie; adapters see
 * only HMAC(key, value), so a SAML response obtained in one browser cannot finish a login started in
 * another (SAML-IRT-03), and a login's resume is refused in any other browser. The cookie is SameSite=None;
 * Secure in deployments (the IdP posts back cross-site) and SameSite=Lax on an http loopback development issuer
 * (same site, no TLS).
 *
 * In deployments the cookie is `__Host-gw_bb` (http/cookie-names.ts): a sibling subdomain cannot plant the
 * value of the attacker's own browser in a person's browser, which would bind the person's login to a value
 * the attacker holds. Its HMAC has a label of its own (`browser-binding-v2`), so a value copied into the
 * un-prefixed name binds nothing.
 *
 * The un-prefixed `gw_bb` an earlier version set is read, with its own label (`-v1`), only until
 * `cookies.earlierNamesUntil` (unset: never), and only to compare with a binding stored earlier
 * (`compare`): to finish a login or a logout chain that version began, on a fleet being upgraded. A binding
 * that is stored (`start`, `keep`) comes from the prefixed cookie only.
 *
 * The cookie lives as long as the records that keep its binding (the login's upstream records, which outlive any
 * session standing on them: `upstreamRecordSeconds`), from each login going upstream: a browser that drops
 * session cookies on a restart (some mobile browsers, when a person switches to an identity app) still carries
 * its binding to the IdP's answer, a manual review's completion and the session's logout, for as long as that
 * session can slide. A logout chain sets it only when the browser has none, for the chain's life, and never
 * lengthens it. It holds a random value, the same for every login of the browser in that time, and nothing
 * about the person (risk/DATA-PROTECTION.md).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { cookieName, earlierNamesRead, type CookieSettings } from '../http/cookie-names.ts';

/** The cookie's base name; `__Host-gw_bb` in deployments. */
export const BINDING_COOKIE = 'gw_bb';
const VALUE = /^[A-Za-z0-9_-]{43}$/;
const LABEL = { prefixed: 'browser-binding-v2', plain: 'browser-binding-v1' } as const;

/**
 * What the binding is for:
 * - `start`: stored with what begins now (a login, a logout chain); the cookie is set for `lifetime` (a new value
 *   when the browser has none; the one it has otherwise, again, when `lifetime.extend`);
 * - `keep`: stored for a later `compare`, when the browser has a cookie (none is set);
 * - `compare`: compared with a binding stored earlier; may be an earlier version's (see the file comment).
 */
export type BindingUse = 'start' | 'keep' | 'compare';

function hmac(key: string, label: string, value: string): string {
  return createHmac('sha256', key).update(`${label}\u0000${value}`).digest('base64url');
}

function read(ctx: Context, name: string): string | undefined {
  const value = ctx.cookies.get(name);
  return value !== undefined && VALUE.test(value) ? value : undefined;
}

/** How long a cookie `start` sets lives from now, and whether a cookie the browser holds is set again for it. */
export interface BindingLifetime {
  seconds: number;
  extend: boolean;
}

/**
 * The binding of this request's browser (HMAC of its cookie's value), or undefined when it has none.
 *
 * @param lifetime for `start`: a login going upstream sets its cookie for as long as its upstream records live,
 *   and extends the one the browser holds; a logout chain sets one only when the browser has none
 */
export function browserBinding(
  ctx: Context,
  key: string,
  cookies: CookieSettings,
  use: Exclude<BindingUse, 'start'>,
): string | undefined;
export function browserBinding(
  ctx: Context,
  key: string,
  cookies: CookieSettings,
  use: 'start',
  lifetime: BindingLifetime,
): string;
export function browserBinding(
  ctx: Context,
  key: string,
  cookies: CookieSettings,
  use: BindingUse,
  lifetime?: BindingLifetime,
): string | undefined {
  const { secure } = cookies;
  const name = cookieName(BINDING_COOKIE, secure);
  const label = secure ? LABEL.prefixed : LABEL.plain;
  const value = read(ctx, name);
  if (use !== 'start') {
    if (value !== undefined) return hmac(key, label, value);
    if (use === 'keep') return undefined;
    const earlier = secure && earlierNamesRead(cookies) ? read(ctx, BINDING_COOKIE) : undefined;
    return earlier === undefined ? undefined : hmac(key, LABEL.plain, earlier);
  }
  if (value !== undefined && !lifetime!.extend) return hmac(key, label, value);
  const kept = value ?? randomBytes(32).toString('base64url');
  ctx.cookies.set(name, kept, {
    httpOnly: true,
    secure,
    sameSite: secure ? 'none' : 'lax',
    path: '/',
    maxAge: lifetime!.seconds * 1000,
    overwrite: true,
  });
  return hmac(key, label, kept);
}

/** The binding's keys: the current one binds and compares; a previous one (before a rotation) only compares. */
export interface BindingKeys {
  current: string;
  previous: readonly string[];
}

/** The binding's keys from the config's secrets (the device cookie's: `browserBindingKey` and the previous ones). */
export function bindingKeys(secrets: {
  browserBindingKey: string;
  previousBrowserBindingKeys: readonly string[];
}): BindingKeys {
  return { current: secrets.browserBindingKey, previous: secrets.previousBrowserBindingKeys };
}

/**
 * Every binding this request's browser may have been bound with, to compare with one stored earlier: its `compare`
 * binding under the current key first, then under each previous key (`secrets.previousBrowserBindingKeys`, newest
 * first). A login, a logout chain or an enrolment grant bound before a key rotation still goes on in the browser that
 * began it: the cookie's value is the same, only the key that hashed it changed. Empty when the browser has no
 * binding cookie. Each entry is this browser's (an HMAC of its own cookie), never another's.
 *
 * @example
 * if (!browserBindings(ctx, bindingKeys(config.secrets), config.cookies).includes(stored)) refuse();
 */
export function browserBindings(ctx: Context, keys: BindingKeys, cookies: CookieSettings): string[] {
  const all: string[] = [];
  for (const key of [keys.current, ...keys.previous]) {
    const binding = browserBinding(ctx, key, cookies, 'compare');
    if (binding === undefined) return all; // no cookie: under no key either
    all.push(binding);
  }
  return all;
}
