/**
 * The two classes of device cookie (risk/device-cookie.ts): a `laned` one (given within the account's share,
 * `rateLimit.perIdentityNewDevices`) counts in the rate limits' known-device parts and for the risk checks; a
 * `risk-only` one (given past it) names its device for the risk checks and the SSO's device match only. A later
 * login within the share signs the same id again as laned; nothing turns a laned cookie risk-only.
 */
import test from 'ava';
import {
  deviceCookieKeys,
  deviceInRequest,
  deviceOf,
  knownDeviceInRequest,
  newDeviceCookie,
  readDeviceCookie,
} from '../../gateway/risk/device-cookie.ts';
import { cookieRequest } from '../helpers/cookie-request.ts';

const KEY = 'k'.repeat(32);
const OLD = 'o'.repeat(32);
const SECURE = { secure: true };
const NAME = '__Host-gw_dev';
const keys = deviceCookieKeys({ browserBindingKey: KEY, previousBrowserBindingKeys: [OLD] });

test('a risk-only cookie names its device to the risk checks, not to the rate limits', (t) => {
  const riskOnly = newDeviceCookie(KEY, 'device-cookie-v2-risk-only');
  const cookies = { [NAME]: riskOnly.value };
  t.is(deviceInRequest(cookieRequest(cookies).ctx, keys, SECURE), riskOnly.deviceId, "the SSO's device match");
  t.is(knownDeviceInRequest(cookieRequest(cookies).ctx, keys, SECURE), null, 'a new browser to the rate limits');
  const { ctx, set } = cookieRequest(cookies);
  t.deepEqual(deviceOf(ctx, keys, SECURE, { issue: false }), {
    deviceId: riskOnly.deviceId,
    known: true,
    forged: false,
  });
  t.is(set.size, 0);
});

test('a laned cookie names its device to both', (t) => {
  const laned = newDeviceCookie(KEY, 'device-cookie-v2');
  t.is(deviceInRequest(cookieRequest({ [NAME]: laned.value }).ctx, keys, SECURE), laned.deviceId);
  t.is(knownDeviceInRequest(cookieRequest({ [NAME]: laned.value }).ctx, keys, SECURE), laned.deviceId);
});

test('a login within the share signs a risk-only device again as laned, the same id', (t) => {
  const riskOnly = newDeviceCookie(KEY, 'device-cookie-v2-risk-only');
  const { ctx, set } = cookieRequest({ [NAME]: riskOnly.value });
  t.deepEqual(deviceOf(ctx, keys, SECURE, { issue: 'laned' }), {
    deviceId: riskOnly.deviceId,
    known: true,
    forged: false,
  });
  t.deepEqual(readDeviceCookie(set.get(NAME), KEY, 'device-cookie-v2'), { deviceId: riskOnly.deviceId, forged: false });
});

test('a login past the share keeps a laned cookie laned', (t) => {
  const laned = newDeviceCookie(KEY, 'device-cookie-v2');
  const { ctx, set } = cookieRequest({ [NAME]: laned.value });
  t.like(deviceOf(ctx, keys, SECURE, { issue: 'risk-only' }), { deviceId: laned.deviceId, known: true });
  t.is(set.size, 0, 'nothing set: it stays what it was');
});

test('a browser without one gets a cookie of the class asked for', (t) => {
  for (const [issue, label] of [
    ['laned', 'device-cookie-v2'],
    ['risk-only', 'device-cookie-v2-risk-only'],
  ] as const) {
    const { ctx, set } = cookieRequest({});
    const seen = deviceOf(ctx, keys, SECURE, { issue });
    t.like(seen, { known: false, forged: false });
    t.deepEqual(readDeviceCookie(set.get(NAME), KEY, label), { deviceId: seen.deviceId, forged: false }, issue);
  }
});

test('a risk-only cookie signed before a key rotation is signed again, still risk-only', (t) => {
  const before = newDeviceCookie(OLD, 'device-cookie-v2-risk-only');
  const { ctx, set } = cookieRequest({ [NAME]: before.value });
  t.like(deviceOf(ctx, keys, SECURE, { issue: 'risk-only' }), {
    deviceId: before.deviceId,
    known: true,
    forged: false,
  });
  t.deepEqual(readDeviceCookie(set.get(NAME), KEY, 'device-cookie-v2-risk-only'), {
    deviceId: before.deviceId,
    forged: false,
  });
});

test('a value of one class does not check as the other, and one no listed key signed is forged', (t) => {
  const riskOnly = newDeviceCookie(KEY, 'device-cookie-v2-risk-only');
  t.like(readDeviceCookie(riskOnly.value, KEY, 'device-cookie-v2'), { deviceId: null, forged: true });
  const laned = newDeviceCookie(KEY, 'device-cookie-v2');
  t.like(readDeviceCookie(laned.value, KEY, 'device-cookie-v2-risk-only'), { deviceId: null, forged: true });
  const other = newDeviceCookie('x'.repeat(32), 'device-cookie-v2-risk-only');
  t.like(deviceOf(cookieRequest({ [NAME]: other.value }).ctx, keys, SECURE, { issue: false }), {
    deviceId: null,
    forged: true,
  });
});
