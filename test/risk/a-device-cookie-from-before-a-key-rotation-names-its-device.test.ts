/**
 * Rotating `secrets.browserBindingKey` with the old key under `secrets.previousBrowserBindingKeys`: a device
 * cookie the old key signed still names its device (known, not forged), and is signed again with the new key; a
 * cookie no listed key signed is forged, as before. Without the list, the rotation made every returning browser's
 * cookie read as forged (`device:forged_cookie`): a step-up for every person at their next login.
 */
import test from 'ava';
import { loadConfig } from '../../gateway/config/load.ts';
import {
  deviceCookieKeys,
  deviceInRequest,
  deviceOf,
  newDeviceCookie,
  readDeviceCookie,
} from '../../gateway/risk/device-cookie.ts';
import { dir, env, failsAt, valid } from '../gateway/config/config-bed.ts';
import { cookieRequest } from '../helpers/cookie-request.ts';

const OLD = 'o'.repeat(32);
const NEW = 'n'.repeat(32);
const OTHER = 'x'.repeat(32);
const SECURE = { secure: true };
const NAME = '__Host-gw_dev';
const keys = deviceCookieKeys({ browserBindingKey: NEW, previousBrowserBindingKeys: [OLD] });

const request = cookieRequest;

test('a device cookie signed with the previous key names its device, and is signed again with the current one', (t) => {
  const before = newDeviceCookie(OLD, 'device-cookie-v2');
  const { ctx, set } = request({ [NAME]: before.value });
  t.deepEqual(deviceOf(ctx, keys, SECURE, { issue: 'laned' }), {
    deviceId: before.deviceId,
    known: true,
    forged: false,
  });
  t.deepEqual(readDeviceCookie(set.get(NAME), NEW, 'device-cookie-v2'), { deviceId: before.deviceId, forged: false });
  t.is(deviceInRequest(request({ [NAME]: before.value }).ctx, keys, SECURE), before.deviceId, 'the SSO read too');
});

test('a device cookie signed with the current key is read as it is, nothing set', (t) => {
  const now = newDeviceCookie(NEW, 'device-cookie-v2');
  const { ctx, set } = request({ [NAME]: now.value });
  t.deepEqual(deviceOf(ctx, keys, SECURE, { issue: 'laned' }), { deviceId: now.deviceId, known: true, forged: false });
  t.is(set.size, 0);
});

test('a device cookie no listed key signed is forged; without the list, the previous key signs nothing', (t) => {
  const stranger = newDeviceCookie(OTHER, 'device-cookie-v2');
  const seen = deviceOf(request({ [NAME]: stranger.value }).ctx, keys, SECURE, { issue: 'laned' });
  t.like(seen, { known: false, forged: true });
  t.not(seen.deviceId, stranger.deviceId);
  const before = newDeviceCookie(OLD, 'device-cookie-v2');
  const unlisted = deviceCookieKeys({ browserBindingKey: NEW, previousBrowserBindingKeys: [] });
  t.like(deviceOf(request({ [NAME]: before.value }).ctx, unlisted, SECURE, { issue: 'laned' }), {
    known: false,
    forged: true,
  });
  t.is(deviceInRequest(request({ [NAME]: before.value }).ctx, unlisted, SECURE), null);
});

test('the config takes previous keys of 32 characters or more, at most four', (t) => {
  env.OLD_KEY = OLD;
  env.SHORT = 'short';
  const raw = valid();
  raw.secrets.previousBrowserBindingKeys = [{ env: 'OLD_KEY' }];
  t.deepEqual(loadConfig(raw, { env, baseDir: dir }).secrets.previousBrowserBindingKeys, [OLD]);
  t.deepEqual(loadConfig(valid(), { env, baseDir: dir }).secrets.previousBrowserBindingKeys, []);
  failsAt(
    t,
    (c) => void (c.secrets.previousBrowserBindingKeys = [{ env: 'SHORT' }]),
    'secrets.previousBrowserBindingKeys[0]',
  );
  failsAt(
    t,
    (c) => void (c.secrets.previousBrowserBindingKeys = Array.from({ length: 5 }, () => ({ env: 'OLD_KEY' }))),
    'secrets.previousBrowserBindingKeys',
    /at most 4/,
  );
});
