/**
 * The signed device cookie (`gw_dev`): a random device id and its HMAC, so a device is recognised across
 * logins and a forged or altered cookie is simply not a device (treated as absent, factor `device:forged`).
 *
 * - HttpOnly; SameSite=None; Secure in deployments (the IdP posts back cross-site), Lax on an http loopback
 *   development issuer; one year;
 * - it carries no personal data; the id links logins only through the reputation store (hashed).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

export const DEVICE_COOKIE = 'gw_dev';
const MAX_AGE_MS = 365 * 24 * 3600 * 1000;
const FORMAT = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

function mac(key: string, id: string): string {
  return createHmac('sha256', key).update(`device-cookie-v1\u0000${id}`).digest('base64url');
}

export interface DeviceCookieResult {
  /** The device id, or `null` when there was no valid cookie. */
  deviceId: string | null;
  forged: boolean;
}

/** Reads and checks the device cookie. */
export function readDeviceCookie(value: string | undefined, key: string): DeviceCookieResult {
  if (!value) return { deviceId: null, forged: false };
  const m = FORMAT.exec(value);
  if (!m) return { deviceId: null, forged: true };
  const expected = Buffer.from(mac(key, m[1]!));
  const given = Buffer.from(m[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { deviceId: null, forged: true };
  return { deviceId: m[1]!, forged: false };
}

/** A new signed cookie value and its id. */
export function newDeviceCookie(key: string): { deviceId: string; value: string } {
  const deviceId = randomBytes(16).toString('base64url');
  return { deviceId, value: `${deviceId}.${mac(key, deviceId)}` };
}

/**
 * Reads the device cookie of a request; when it is absent or invalid, issues a new one on the response.
 * Returns the id (the new one for a new device) and whether the device was already known to this browser.
 */
export function deviceOf(
  ctx: Context,
  key: string,
  secure: boolean,
): { deviceId: string; known: boolean; forged: boolean } {
  const read = readDeviceCookie(ctx.cookies.get(DEVICE_COOKIE), key);
  if (read.deviceId) return { deviceId: read.deviceId, known: true, forged: false };
  const fresh = newDeviceCookie(key);
  ctx.cookies.set(DEVICE_COOKIE, fresh.value, {
    httpOnly: true,
    secure,
    sameSite: secure ? 'none' : 'lax',
    path: '/',
    maxAge: MAX_AGE_MS,
    overwrite: true,
  });
  return { deviceId: fresh.deviceId, known: false, forged: read.forged };
}
