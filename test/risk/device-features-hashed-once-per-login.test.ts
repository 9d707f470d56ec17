/**
 * Issue #14: a login's device features (one keyed HMAC per sub-feature: the stores never see a value in
 * clear) are computed once per login. The device stage computes them, and the record of the assessment
 * needs them again (`translation/fraud-service.ts`); it gets the same values without hashing them twice.
 * The values are unchanged (each is still `hashValue` of its feature), another login (another signals
 * object) or another hash key is hashed afresh, and what a caller gets is its own copy.
 */
import test from 'ava';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { hashValue } from '../../gateway/risk/fingerprint.ts';
import { signals } from './fixtures.ts';

let hmacs = 0;
const createHmac = crypto.createHmac;
crypto.createHmac = function countedHmac(...args: Parameters<typeof createHmac>) {
  hmacs += 1;
  return createHmac(...args);
} as typeof createHmac;
syncBuiltinESMExports();

const KEY = 'test-feature-hash-key-0123456789abcdef';

test.serial('the features of one login are hashed once, whoever asks for them', (t) => {
  const login = signals({ deviceId: 'device-1' });
  hmacs = 0;
  const first = deviceFeatures(login, KEY);
  const perLogin = hmacs;
  t.true(perLogin >= 10, `one HMAC per sub-feature (${perLogin})`);
  const again = deviceFeatures(login, KEY);
  t.is(hmacs, perLogin, 'the second reader (the record of the assessment) hashes nothing');
  t.deepEqual(again, first);
  t.is(first.ua, hashValue(KEY, 'ua', login.userAgent), 'each value is still the keyed hash of its feature');
  t.is(first.deviceId, hashValue(KEY, 'deviceId', 'device-1'));
});

test.serial('another login, or another key, is hashed afresh; callers get their own copy', (t) => {
  const login = signals({ deviceId: 'device-2' });
  const first = deviceFeatures(login, KEY);
  first.ua = 'changed by a caller';
  t.not(deviceFeatures(login, KEY).ua, 'changed by a caller');
  hmacs = 0;
  const other = deviceFeatures(signals({ deviceId: 'device-2' }), KEY);
  t.true(hmacs >= 10, 'a new signals object is a new login');
  t.deepEqual(other, deviceFeatures(login, KEY));
  hmacs = 0;
  const rekeyed = deviceFeatures(login, `${KEY}-next`);
  t.true(hmacs >= 10, 'another key is hashed afresh');
  t.not(rekeyed.ua, other.ua);
});
