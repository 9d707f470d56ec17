/**
 * A device cookie is what the known-device parts of the IdPs' and RPs' buckets keep room for. The ACS gives one to
 * a browser without one at each verified login: one real account, logged in again and again from fresh browsers,
 * collected thousands a day, enough to empty those parts (attacker review, thirty-fifth round). Now an identity's
 * logins give at most `rateLimit.perIdentityNewDevices`; past it the login goes on without one.
 */
import test from 'ava';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import type { Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { startRateLimitBed } from './ratelimit-bed.ts';

const SLOWEST = 0.00001; // one token in 100,000 s
const LOOSE = { capacity: 1000, perSecond: 0.01 };
const PATIENT = 5_000;

test("an identity's logins give at most its share of device cookies; another identity's still give theirs", async (t) => {
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
  for (let i = 0; i < 4; i++) marie.push(await ask('demo-idp\nmarie'));
  t.deepEqual(marie, [true, true, true, false]);
  t.true(await ask('demo-idp\njean'));
  const exposition = await bed.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="given",line="redis"\} 4/);
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="withheld",line="redis"\} 1/);
});

test('perIdentityNewDevices has a default of about nine a day, and a rate below 0.00001 fails at boot naming it', (t) => {
  t.deepEqual(parseRateLimit({}, []).perIdentityNewDevices, { capacity: 10, perSecond: 0.0001 });
  t.throws(() => parseRateLimit({ perIdentityNewDevices: { perSecond: 0.000001 } }, []), {
    message: /rateLimit\.perIdentityNewDevices\.perSecond/,
  });
});

test("past its identity's share a login goes on without a device cookie", async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) =>
      (raw.rateLimit = { perIdentityNewDevices: { capacity: 2, perSecond: SLOWEST }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fx.stop());
  const logIn = async (browser?: Browser) => {
    const request = await authorizationRequest(fx.rp, { prompt: 'login' });
    const login = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT, browser });
    t.truthy(login.url.searchParams.get('code'), `the login ended at ${login.url}`);
    return { browser: login.browser, device: /(^|; )gw_dev=/.test(login.browser.cookieHeader(new URL(fx.url))) };
  };
  // marie, each time from a browser that never logged in
  const logins = [await logIn(), await logIn(), await logIn()];
  t.deepEqual(
    logins.map((l) => l.device),
    [true, true, false],
  );
  // a browser that holds one takes nothing from the share: marie's first browser logs in again, its cookie kept
  t.true((await logIn(logins[0]!.browser)).device);
  const exposition = await fx.gateway.services.metrics.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="given",line="redis"\} 2/);
  t.regex(exposition, /gateway_ratelimit_new_device_cookies_total\{outcome="withheld",line="redis"\} 1/);
});
