/**
 * A device cookie is what the known-device parts of the IdPs' and RPs' buckets keep room for. The ACS gives one to
 * a browser without one at each verified login: one real account, logged in again and again from fresh browsers,
 * collected thousands a day, enough to empty those parts (attacker review, thirty-fifth round). Now an account's
 * logins give at most `rateLimit.perIdentityNewDevices` laned ones; past it a browser gets a risk-only one (its device
 * known to the risk checks, not to the rate limits).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import { readDeviceCookie } from '../../../gateway/risk/device-cookie.ts';
import type { Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startRateLimitBed } from './ratelimit-bed.ts';

const SLOWEST = 0.00001; // one token in 100,000 s
const LOOSE = { capacity: 1000, perSecond: 0.01 };
const PATIENT = 5_000;
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

test("an account's logins give at most its share of laned device cookies; another account's still give theirs", async (t) => {
  const bed = await startRateLimitBed(
    { perIp: LOOSE, failures: LOOSE, perIdentityNewDevices: { capacity: 3, perSecond: SLOWEST } },
    [],
  );
  t.teardown(() => bed.stop());
  const ask = async (identity: string) => {
    const answer = await fetch(`${bed.url}/saml/acs?newDeviceFor=${encodeURIComponent(identity)}`, { method: 'POST' });
    t.is(answer.status, 200, 'never a refusal of the login');
    return ((await answer.json()) as { given: boolean }).given;
  };
  const marie: boolean[] = [];
  for (let i = 0; i < 4; i++) marie.push(await ask('account\nmarie'));
  t.deepEqual(marie, [true, true, true, false]);
  t.true(await ask('account\njean'));
  const exposition = await bed.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="given",line="redis"\} 4\n/);
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="withheld",line="redis"\} 1\n/);
});

test('perIdentityNewDevices has a default of about nine a day, and a rate below 0.00001 fails at boot naming it', (t) => {
  t.deepEqual(parseRateLimit({}, []).perIdentityNewDevices, { capacity: 10, perSecond: 0.0001 });
  t.throws(() => parseRateLimit({ perIdentityNewDevices: { perSecond: 0.000001 } }, []), {
    message: /rateLimit\.perIdentityNewDevices\.perSecond/,
  });
});

test("past its account's share a login goes on with a risk-only device cookie, its device kept", async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = { perIdentityNewDevices: { capacity: 2, perSecond: SLOWEST }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fx.stop());
  const key = fx.gateway.services.config.secrets.browserBindingKey;
  /** The class and id of the device cookie a browser holds (an http deployment's `gw_dev`). */
  const deviceHeld = (browser: Browser) => {
    const value = /(?:^|; )gw_dev=([^;]+)/.exec(browser.cookieHeader(new URL(fx.url)))?.[1];
    const laned = readDeviceCookie(value, key, 'device-cookie-v1');
    const riskOnly = readDeviceCookie(value, key, 'device-cookie-v1-risk-only');
    if (laned.deviceId) return { cls: 'laned', id: laned.deviceId };
    return riskOnly.deviceId ? { cls: 'risk-only', id: riskOnly.deviceId } : { cls: 'none', id: null };
  };
  const logIn = async (username: string, browser?: Browser) => {
    // a transient NameID, a fresh one at every login: the share is the account's (its pivot identity), not the NameID's
    fx.deployment.idp.setResponseOverrides({ nameIdFormat: TRANSIENT, nameId: `_${randomBytes(16).toString('hex')}` });
    const request = await authorizationRequest(fx.rp, { prompt: 'login' });
    const login = await loginJourney(request.url, { username, redirectUri: RP_REDIRECT, browser });
    t.truthy(login.url.searchParams.get('code'), `the login ended at ${login.url}`);
    return { browser: login.browser, ...deviceHeld(login.browser) };
  };
  // marie, each time from a browser that never logged in: her share is two laned cookies
  const logins = [await logIn('marie'), await logIn('marie'), await logIn('marie')];
  t.deepEqual(
    logins.map((l) => l.cls),
    ['laned', 'laned', 'risk-only'],
  );
  // a browser that holds a laned one takes nothing from the share: her first browser logs in again, its cookie kept
  t.deepEqual(await logIn('marie', logins[0]!.browser).then((l) => [l.cls, l.id]), ['laned', logins[0]!.id]);
  // the risk-only one keeps its device (still past her share); jean's first login is within his own share
  t.deepEqual(await logIn('marie', logins[2]!.browser).then((l) => [l.cls, l.id]), ['risk-only', logins[2]!.id]);
  t.is((await logIn('jean')).cls, 'laned');
  const exposition = await fx.gateway.services.metrics.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="given",line="redis"\} 3\n/);
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="withheld",line="redis"\} 2\n/);
});
