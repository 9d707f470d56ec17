/**
 * On a fleet being upgraded, a login or logout chain an earlier version began has its binding cookie under the
 * un-prefixed name (`gw_bb`), and a person's device cookie is `gw_dev`. This version reads them only until
 * `cookies.earlierNamesUntil` (unset: never), and only so:
 *
 * - `gw_bb` gives the earlier version's binding (its HMAC label `browser-binding-v1`) to compare with one stored
 *   earlier, to finish a login that version began; it is never stored (a new login, a kept logout retry), and a
 *   value of the prefixed cookie copied under the old name (what a sibling site can plant) gives another binding;
 * - `gw_dev` is still the same known device, set again under `__Host-gw_dev`; a value of the prefixed cookie
 *   copied under the old name is no device, and not `device:forged` either (any sibling can plant one);
 * - on an http loopback development issuer nothing changes: `gw_bb` and `gw_dev`, labelled `-v1`.
 *
 * The request is a Koa context's cookie jar as the gateway reads it: these are the functions every route calls.
 * `cookies.earlierNamesUntil` is an ISO 8601 instant within a year, refused at load otherwise.
 */
import test from 'ava';
import { createHmac } from 'node:crypto';
import { browserBinding } from '../../../gateway/session/browser-binding.ts';
import { deviceInRequest, deviceOf, newDeviceCookie, readDeviceCookie } from '../../../gateway/risk/device-cookie.ts';
import { loadConfig } from '../../../gateway/config/load.ts';
import { dir, env, failsAt, valid } from '../config/config-bed.ts';
import { cookieRequest } from '../../helpers/cookie-request.ts';

const KEY = 'k'.repeat(32);
const VALUE = 'v'.repeat(43);
/** An https issuer within its upgrade window, after it, without one; an http loopback issuer. */
const WINDOW = { secure: true, earlierNamesUntil: Date.now() + 3_600_000 };
const PAST = { secure: true, earlierNamesUntil: Date.now() - 1 };
const SECURE = { secure: true };
const LOOPBACK = { secure: false };

const request = cookieRequest;

/** The binding an earlier version stored for a cookie value (its formula, unchanged in it). */
const earlierBinding = (value: string) =>
  createHmac('sha256', KEY).update(`browser-binding-v1\u0000${value}`).digest('base64url');

test("an earlier version's gw_bb finishes the login that version began, within the upgrade window", (t) => {
  const { ctx, set } = request({ gw_bb: VALUE });
  t.is(browserBinding(ctx, KEY, WINDOW, 'compare'), earlierBinding(VALUE));
  t.is(set.size, 0, 'nothing is set to finish it');
  t.is(browserBinding(request({ gw_bb: VALUE }).ctx, KEY, PAST, 'compare'), undefined, 'after the window');
  t.is(browserBinding(request({ gw_bb: VALUE }).ctx, KEY, SECURE, 'compare'), undefined, 'without a window');
});

test('gw_bb is never kept: a binding stored for a later comparison comes from __Host-gw_bb only', (t) => {
  const { ctx, set } = request({ gw_bb: VALUE });
  t.is(browserBinding(ctx, KEY, WINDOW, 'keep'), undefined);
  t.is(set.size, 0);
  t.truthy(browserBinding(request({ '__Host-gw_bb': VALUE }).ctx, KEY, WINDOW, 'keep'));
});

test('a new login never takes the value of gw_bb: it gets a __Host-gw_bb of its own', (t) => {
  const { ctx, set } = request({ gw_bb: VALUE });
  const binding = browserBinding(ctx, KEY, WINDOW, 'start', { seconds: 3600, extend: true });
  t.not(binding, earlierBinding(VALUE));
  t.deepEqual([...set.keys()], ['__Host-gw_bb']);
  t.not(set.get('__Host-gw_bb'), VALUE);
});

test('the prefixed value copied under gw_bb gives another binding than under its own name', (t) => {
  const own = browserBinding(request({ '__Host-gw_bb': VALUE }).ctx, KEY, WINDOW, 'compare');
  const copied = browserBinding(request({ gw_bb: VALUE }).ctx, KEY, WINDOW, 'compare');
  t.truthy(own);
  t.not(copied, own);
});

test('the prefixed gw_bb is read first when a browser has both', (t) => {
  const both = browserBinding(request({ '__Host-gw_bb': VALUE, gw_bb: 'w'.repeat(43) }).ctx, KEY, WINDOW, 'compare');
  t.is(both, browserBinding(request({ '__Host-gw_bb': VALUE }).ctx, KEY, WINDOW, 'compare'));
});

test('on an http loopback issuer the binding cookie is gw_bb with the earlier label', (t) => {
  const { ctx, set } = request({});
  const binding = browserBinding(ctx, KEY, LOOPBACK, 'start', { seconds: 3600, extend: true });
  t.deepEqual([...set.keys()], ['gw_bb']);
  t.is(binding, earlierBinding(set.get('gw_bb')!));
  t.is(browserBinding(request({ gw_bb: VALUE }).ctx, KEY, LOOPBACK, 'keep'), earlierBinding(VALUE));
  t.is(browserBinding(request({ '__Host-gw_bb': VALUE }).ctx, KEY, LOOPBACK, 'compare'), undefined);
});

test("within the upgrade window an earlier version's gw_dev stays the same known device, now __Host-gw_dev", (t) => {
  const earlier = newDeviceCookie(KEY, 'device-cookie-v1');
  const { ctx, set } = request({ gw_dev: earlier.value });
  t.deepEqual(deviceOf(ctx, KEY, WINDOW, { issue: 'laned' }), {
    deviceId: earlier.deviceId,
    known: true,
    forged: false,
  });
  const moved = readDeviceCookie(set.get('__Host-gw_dev'), KEY, 'device-cookie-v2');
  t.is(moved.deviceId, earlier.deviceId);
  // and from then on it is read under its new name
  t.deepEqual(deviceOf(request({ '__Host-gw_dev': set.get('__Host-gw_dev')! }).ctx, KEY, SECURE, { issue: 'laned' }), {
    deviceId: earlier.deviceId,
    known: true,
    forged: false,
  });
});

test("within the upgrade window the read alone (the SSO's, the IdP's rate limit) names an earlier gw_dev's device too", (t) => {
  const earlier = newDeviceCookie(KEY, 'device-cookie-v1');
  const { ctx, set } = request({ gw_dev: earlier.value });
  t.is(deviceInRequest(ctx, KEY, WINDOW), earlier.deviceId);
  t.is(set.size, 0, 'nothing set');
  t.is(deviceInRequest(request({ gw_dev: earlier.value }).ctx, KEY, PAST), null, 'outside the window: none');
  const own = newDeviceCookie(KEY, 'device-cookie-v2');
  t.is(deviceInRequest(request({ gw_dev: own.value }).ctx, KEY, WINDOW), null, 'a __Host- value copied under gw_dev');
});

test('outside the upgrade window gw_dev is not read: a new device', (t) => {
  const earlier = newDeviceCookie(KEY, 'device-cookie-v1');
  for (const cookies of [PAST, SECURE]) {
    const seen = deviceOf(request({ gw_dev: earlier.value }).ctx, KEY, cookies, { issue: 'laned' });
    t.is(seen.known, false);
    t.not(seen.deviceId, earlier.deviceId);
  }
});

test('a __Host-gw_dev value copied under gw_dev is no device, and not forged', (t) => {
  const own = newDeviceCookie(KEY, 'device-cookie-v2');
  const { ctx, set } = request({ gw_dev: own.value });
  const seen = deviceOf(ctx, KEY, WINDOW, { issue: 'laned' });
  t.is(seen.known, false);
  t.is(seen.forged, false);
  t.not(seen.deviceId, own.deviceId);
  t.deepEqual([...set.keys()], ['__Host-gw_dev']);
});

test('an altered __Host-gw_dev is device:forged', (t) => {
  const own = newDeviceCookie(KEY, 'device-cookie-v2');
  const other = own.value.endsWith('A') ? 'B' : 'A';
  const seen = deviceOf(request({ '__Host-gw_dev': `${own.value.slice(0, -1)}${other}` }).ctx, KEY, SECURE, {
    issue: 'laned',
  });
  t.is(seen.known, false);
  t.is(seen.forged, true);
});

test('on an http loopback issuer the device cookie is gw_dev with the earlier label', (t) => {
  const earlier = newDeviceCookie(KEY, 'device-cookie-v1');
  t.deepEqual(deviceOf(request({ gw_dev: earlier.value }).ctx, KEY, LOOPBACK, { issue: 'laned' }), {
    deviceId: earlier.deviceId,
    known: true,
    forged: false,
  });
});

test('cookies.earlierNamesUntil is an ISO 8601 instant within a year, else refused at load naming it', (t) => {
  const soon = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
  t.is(
    loadConfig({ ...valid(), cookies: { earlierNamesUntil: soon } }, { env, baseDir: dir }).cookies.earlierNamesUntil,
    Date.parse(soon),
  );
  failsAt(t, (c) => (c.cookies = { earlierNamesUntil: '2027-01-31' }), 'cookies.earlierNamesUntil', /ISO 8601/);
  failsAt(
    t,
    (c) => (c.cookies = { earlierNamesUntil: '2027-02-30T00:00:00Z' }),
    'cookies.earlierNamesUntil',
    /ISO 8601/,
  );
  failsAt(
    t,
    (c) => (c.cookies = { earlierNamesUntil: '2027-01-31T00:00:00+99:99' }),
    'cookies.earlierNamesUntil',
    /ISO 8601/,
  );
  failsAt(t, (c) => (c.cookies = { earlierNamesUntil: 1_800_000_000_000 }), 'cookies.earlierNamesUntil');
  const later = new Date(Date.now() + 400 * 24 * 3600 * 1000).toISOString();
  failsAt(t, (c) => (c.cookies = { earlierNamesUntil: later }), 'cookies.earlierNamesUntil', /within a year/);
});
