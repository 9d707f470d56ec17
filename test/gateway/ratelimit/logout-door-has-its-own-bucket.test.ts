/**
 * The upstream logout door (the protocols' `logout` routes: `GET`/`POST /saml/slo`) has a per-address bucket of
 * its own (`rateLimit.perIpLogout`): past it, 429 with Retry-After and the RATE_LIMITED page, as the other
 * browser doors answer; the other doors' buckets are untouched. Through the whole gateway.
 */
import test from 'ava';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';

/**
 * The limiter's Redis deadline in these tests: long, so that a loaded machine never sends a decision to the
 * instance's local fallback (its own buckets, which have not seen the requests before; `limits-hold-in-redis`
 * tests that fallback).
 */
const PATIENT = 5_000;

const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };

test('the N+1th logout message of an address is refused with 429 and Retry-After; the login doors are not', async (t) => {
  const fixture = await startGatewayFixture({
    // two logout messages per address, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) => (raw.rateLimit = { perIpLogout: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  const slo = `${fixture.url}/saml/slo`;
  // a message no IdP of ours sent: refused by the adapter (400), but admitted by the limiter
  const post = () => fetch(slo, { method: 'POST', headers: form, body: 'SAMLRequest=AAAA', redirect: 'manual' });
  for (let i = 0; i < 2; i += 1) {
    const admitted = await post();
    t.is(admitted.status, 400);
    t.notRegex(await admitted.text(), /RATE_LIMITED/);
  }
  const refused = await post();
  t.is(refused.status, 429);
  t.true(Number(refused.headers.get('retry-after')) >= 1);
  t.regex(await refused.text(), /RATE_LIMITED/);
  // HTTP-Redirect takes from the same bucket: one door, two bindings
  const redirect = await fetch(`${slo}?SAMLRequest=AAAA`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  t.is(redirect.status, 429);
  await redirect.body?.cancel();
  // the address's authorization bucket is its own (perIp, 2,000 by default): still admitted
  const { url } = await authorizationRequest(fixture.rp);
  const login = await fetch(url, { redirect: 'manual' });
  t.is(login.status, 303);
  t.regex(login.headers.get('location') ?? '', /\/interaction\//);
});

test('perIpLogout has its own default, and a bad value fails at boot naming the field', (t) => {
  const config = parseRateLimit({}, []);
  t.deepEqual(config.perIpLogout, { capacity: 100, perSecond: 2 });
  t.notDeepEqual(config.perIpLogout, config.perIp);
  t.deepEqual(parseRateLimit({ perIpLogout: { capacity: 5 } }, []).perIpLogout, { capacity: 5, perSecond: 2 });
  const error = t.throws(() => parseRateLimit({ perIpLogout: { perSecond: 0 } }, []), { instanceOf: ConfigError });
  t.is(error?.path, 'rateLimit.perIpLogout.perSecond');
});
