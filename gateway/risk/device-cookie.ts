/**
 * The signed device cookie (`gw_dev`): a random device id and its HMAC, so a device is recognised across
 * logins and a forged or altered cookie is simply not a device (treated as absent, factor `device:forged`).
 *
 * - HttpOnly; SameSite=None; Secure in deployments (the IdP posts back cross-site), Lax on an http loopback
 *   development issuer; one year;
 * - it carries no personal data; the id links logins only through the reputation store (hashed);
 * - in deployments it is `__Host-gw_dev` (http/cookie-names.ts), its HMAC labelled `device-cookie-v2`: a
 *   sibling subdomain cannot plant a device id of the attacker's in a person's browser (the person's logins would
 *   then make the attacker's device known for the person, and the attacker's own later logins with stolen
 *   credentials look familiar), and a value copied under the old name does not check;
 * - the un-prefixed `gw_dev` an earlier version set (labelled `-v1`) is recognised when the prefixed one is
 *   absent, only until `cookies.earlierNamesUntil` (unset: never), and the same id is then set under the new
 *   name: a known device stays known across the upgrade. One that does not check is ignored, not
 *   `device:forged`: a sibling can plant any value under that name.
 * - two classes (issue #15, thirty-fifth round): a `laned` cookie, given by a verified login within its identity's
 *   share (`rateLimit.perIdentityNewDevices`), is what the rate limits' known-device parts keep room for
 *   ({@link knownDeviceInRequest}); a `risk-only` one (its MAC label ends `-risk-only`), given past that share, names
 *   the device for the risk checks and the SSO's device match only ({@link deviceInRequest}, {@link deviceOf}), so
 *   one account cannot collect room in those parts by the thousand, and a person past the share still has a device.
 *   A later login within the share signs the same id again as `laned`; nothing turns a laned cookie risk-only;
 * - the key is `secrets.browserBindingKey`; after a rotation, a cookie signed with one of
 *   `secrets.previousBrowserBindingKeys` still names its device (known, not forged) and is signed again with the
 *   current key: rotating no longer turned every returning browser into a forged cookie, a step-up for everyone.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { cookieName, earlierNamesRead, type CookieSettings } from '../http/cookie-names.ts';

/** The cookie's base name; `__Host-gw_dev` in deployments. */
export const DEVICE_COOKIE = 'gw_dev';
const MAX_AGE_MS = 365 * 24 * 3600 * 1000;
const FORMAT = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** The MAC label of a cookie under the prefixed name (`v2`) and under the plain one (`v1`), and of its class. */
export type DeviceCookieLabel =
  'device-cookie-v1' | 'device-cookie-v2' | 'device-cookie-v1-risk-only' | 'device-cookie-v2-risk-only';

/** What a device cookie counts for: the rate limits' known-device parts and the risk checks, or the risk checks only. */
export type DeviceClass = 'laned' | 'risk-only';

const labelOf = (secure: boolean, cls: DeviceClass): DeviceCookieLabel =>
  `device-cookie-${secure ? 'v2' : 'v1'}${cls === 'laned' ? '' : '-risk-only'}`;

function mac(key: string, id: string, label: DeviceCookieLabel): string {
  return createHmac('sha256', key).update(`${label}\u0000${id}`).digest('base64url');
}

export interface DeviceCookieResult {
  /** The device id, or `null` when there was no valid cookie. */
  deviceId: string | null;
  forged: boolean;
}

/** Reads and checks the device cookie. */
export function readDeviceCookie(
  value: string | undefined,
  key: string,
  label: DeviceCookieLabel = 'device-cookie-v1',
): DeviceCookieResult {
  if (!value) return { deviceId: null, forged: false };
  const m = FORMAT.exec(value);
  if (!m) return { deviceId: null, forged: true };
  const expected = Buffer.from(mac(key, m[1]!, label));
  const given = Buffer.from(m[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { deviceId: null, forged: true };
  return { deviceId: m[1]!, forged: false };
}

/** A signed cookie value for `deviceId` (a new id when none is given). */
export function newDeviceCookie(
  key: string,
  label: DeviceCookieLabel = 'device-cookie-v1',
  deviceId: string = randomBytes(16).toString('base64url'),
): { deviceId: string; value: string } {
  return { deviceId, value: `${deviceId}.${mac(key, deviceId, label)}` };
}

/** The keys of the device cookie: the current one signs and reads, a previous one (before a rotation) reads. */
export interface DeviceCookieKeys {
  current: string;
  previous: readonly string[];
}

/** The device cookie's keys from the config's secrets. */
export function deviceCookieKeys(secrets: {
  browserBindingKey: string;
  previousBrowserBindingKeys: readonly string[];
}): DeviceCookieKeys {
  return { current: secrets.browserBindingKey, previous: secrets.previousBrowserBindingKeys };
}

/**
 * Reads `value` with the current key, then with each previous one, as each class in `classes`; `rotated`: a previous
 * key signed it; `cls`: the class it was signed as.
 */
function readWithKeys(
  value: string | undefined,
  keys: string | DeviceCookieKeys,
  secure: boolean,
  classes: readonly DeviceClass[],
): DeviceCookieResult & { rotated: boolean; cls: DeviceClass } {
  const { current, previous } = typeof keys === 'string' ? { current: keys, previous: [] } : keys;
  let first: DeviceCookieResult | undefined;
  for (const [i, key] of [current, ...previous].entries())
    for (const cls of classes) {
      const read = readDeviceCookie(value, key, labelOf(secure, cls));
      first ??= read;
      if (!read.forged) return { ...read, rotated: i > 0, cls };
    }
  return { ...first!, rotated: false, cls: classes[0]! };
}

/**
 * The device this request's cookie names (valid, of either class), issuing nothing; null when none. As {@link deviceOf}
 * reads it: under the current name, or within the upgrade window (`cookies.earlierNamesUntil`) under the earlier one.
 * The risk checks' device (the SSO's device match).
 */
export function deviceInRequest(ctx: Context, keys: string | DeviceCookieKeys, cookies: CookieSettings): string | null {
  return readInRequest(ctx, keys, cookies, ['laned', 'risk-only']);
}

/**
 * The device this request's `laned` cookie names: a browser that logged in within its identity's share, what the rate
 * limits' known-device parts keep room for (`rateLimit.perIdp.knownDeviceShare`, `rateLimit.clientKnownDeviceShare`);
 * null for a browser without one, or with a `risk-only` one.
 */
export function knownDeviceInRequest(
  ctx: Context,
  keys: string | DeviceCookieKeys,
  cookies: CookieSettings,
): string | null {
  return readInRequest(ctx, keys, cookies, ['laned']);
}

function readInRequest(
  ctx: Context,
  keys: string | DeviceCookieKeys,
  cookies: CookieSettings,
  classes: readonly DeviceClass[],
): string | null {
  const { secure } = cookies;
  // read as either class, then kept only if of one asked for: a valid cookie of the other class is never `forged`
  const read = readWithKeys(ctx.cookies.get(cookieName(DEVICE_COOKIE, secure)), keys, secure, ['laned', 'risk-only']);
  if (read.deviceId) return classes.includes(read.cls) ? read.deviceId : null;
  if (read.forged || !secure || !earlierNamesRead(cookies)) return null;
  // an earlier version's cookie: laned (it had no other class)
  const key = typeof keys === 'string' ? keys : keys.current;
  return readDeviceCookie(ctx.cookies.get(DEVICE_COOKIE), key).deviceId;
}

/**
 * Reads the device cookie of a request (either class); when it is absent or invalid, issues a new one on the response
 * (`issue`: `'laned'` or `'risk-only'`, said every time: the id is the new one) or issues none (`issue: false`: the id
 * is null, no device). Returns the id and whether the device was already known to this browser. Issuing `laned`
 * to a browser holding a `risk-only` cookie signs its id again as `laned` (the same device); a laned one is never
 * turned risk-only.
 *
 * Only a login whose IdP answer was verified issues one (the ACS): a valid laned device cookie then stands for a
 * browser that authenticated upstream at least once, which the rate limits count on (`rateLimit.perIdp.knownDeviceShare`).
 * An SSO does not (`issue: false`): a session's cookie replayed without the device cookie would otherwise mint a
 * fresh valid one per request. Its assessment then sees no device (null, as for a forged cookie), never a fresh id
 * per request, which would count as one more device of the account at every SSO.
 */
export function deviceOf(
  ctx: Context,
  keys: string | DeviceCookieKeys,
  cookies: CookieSettings,
  options: { issue: DeviceClass },
): { deviceId: string; known: boolean; forged: boolean };
export function deviceOf(
  ctx: Context,
  keys: string | DeviceCookieKeys,
  cookies: CookieSettings,
  options: { issue: DeviceClass | false },
): { deviceId: string | null; known: boolean; forged: boolean };
export function deviceOf(
  ctx: Context,
  keys: string | DeviceCookieKeys,
  cookies: CookieSettings,
  { issue }: { issue: DeviceClass | false },
): { deviceId: string | null; known: boolean; forged: boolean } {
  const { secure } = cookies;
  const wanted = issue === false ? undefined : issue;
  const name = cookieName(DEVICE_COOKIE, secure);
  const key = typeof keys === 'string' ? keys : keys.current;
  const read = readWithKeys(ctx.cookies.get(name), keys, secure, ['laned', 'risk-only']);
  if (read.deviceId) {
    // signed with a key since rotated, or risk-only and now given within its identity's share: the same device,
    // signed again with the current key (as laned once it is; never the other way)
    const cls = wanted === 'laned' ? 'laned' : read.cls;
    if (read.rotated || cls !== read.cls)
      ctx.cookies.set(name, newDeviceCookie(key, labelOf(secure, cls), read.deviceId).value, setOptions(secure));
    return { deviceId: read.deviceId, known: true, forged: false };
  }
  const earlier =
    secure && !read.forged && earlierNamesRead(cookies)
      ? readDeviceCookie(ctx.cookies.get(DEVICE_COOKIE), key)
      : undefined;
  if (!wanted) return { deviceId: earlier?.deviceId ?? null, known: !!earlier?.deviceId, forged: read.forged };
  // an earlier version's cookie was laned (it had no other class): it stays so under the new name
  const fresh = newDeviceCookie(
    key,
    labelOf(secure, earlier?.deviceId ? 'laned' : wanted),
    earlier?.deviceId ?? undefined,
  );
  ctx.cookies.set(name, fresh.value, setOptions(secure));
  if (earlier?.deviceId) return { deviceId: fresh.deviceId, known: true, forged: false };
  // an un-prefixed cookie that does not check is not `forged`: any sibling subdomain can plant one
  return { deviceId: fresh.deviceId, known: false, forged: read.forged };
}

function setOptions(secure: boolean) {
  return {
    httpOnly: true,
    secure,
    sameSite: secure ? 'none' : 'lax',
    path: '/',
    maxAge: MAX_AGE_MS,
    overwrite: true,
  } as const;
}
