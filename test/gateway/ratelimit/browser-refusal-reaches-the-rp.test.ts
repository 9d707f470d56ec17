/**
 * Issue #15: a rate-limited authorization request from a known RP goes back to that RP with
 * error=temporarily_unavailable, its state and our iss (RFC 9207), never a dead end; a request whose RP or
 * redirect URI is not known gets the 429 page with RATE_LIMITED and Retry-After. Through the whole gateway. An
 * authorization request by POST (its parameters in the body) takes from its RP's bucket as a GET does: it took none;
 * and its address's bucket refuses it before its body is read: it was read first, whatever the bucket held.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';

/**
 * The limiter's Redis deadline in these tests: long, so that a loaded machine never sends a decision to the
 * instance's local fallback (its own buckets, which have not seen the requests before; `limits-hold-in-redis`
 * tests that fallback).
 */
const PATIENT = 5_000;

test('the N+1th authorization request of an address is answered to the RP with temporarily_unavailable, state and iss', async (t) => {
  const fixture = await startGatewayFixture({
    // two authorization requests per address, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) => (raw.rateLimit = { perIp: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: PATIENT }),
  });
  t.teardown(() => fixture.stop());
  for (let i = 0; i < 2; i += 1) {
    const { url } = await authorizationRequest(fixture.rp);
    const admitted = await fetch(url, { redirect: 'manual' });
    t.is(admitted.status, 303);
    t.regex(admitted.headers.get('location') ?? '', /\/interaction\//);
  }
  const { url, state } = await authorizationRequest(fixture.rp);
  const refused = await fetch(url, { redirect: 'manual' });
  t.is(refused.status, 303);
  t.truthy(refused.headers.get('retry-after'));
  const back = new URL(refused.headers.get('location') ?? '');
  t.is(`${back.origin}${back.pathname}`, RP_REDIRECT);
  t.is(back.searchParams.get('error'), 'temporarily_unavailable');
  t.is(back.searchParams.get('state'), state);
  t.is(back.searchParams.get('iss'), fixture.deployment.gatewayUrl);

  // a redirect URI the RP never registered is not sent anything: the page, in the browser's language
  url.searchParams.set('redirect_uri', 'https://attacker.example/cb');
  const page = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html', 'accept-language': 'fr' } });
  t.is(page.status, 429);
  t.true(Number(page.headers.get('retry-after')) >= 1);
  const html = await page.text();
  t.regex(html, /RATE_LIMITED/);
  t.regex(html, /Trop de demandes/);
  // what is not limited (discovery) still answers
  t.is((await fetch(`${fixture.url}/.well-known/openid-configuration`)).status, 200);
});

test("an authorization request by POST takes from its RP's bucket as by GET, and its refusal goes back to the RP", async (t) => {
  const fixture = await startGatewayFixture({
    // the RP's authorization requests: three, refilled one per 1,000 s (one RP bucket, no part kept for returning
    // browsers); the address's bucket is far larger: only the RP's can refuse
    rawConfig: (raw) => {
      const rp = (raw.clients as Array<{ client_id: string }>)[0]!.client_id;
      raw.rateLimit = {
        clients: { [rp]: { tier: 'tier_3', perSecond: 0.001 } },
        clientBurstSeconds: 3000,
        clientKnownDeviceShare: 0,
        perIp: { capacity: 1000, perSecond: 0.001 },
        redisTimeoutMs: PATIENT,
        adaptive: { enabled: false },
      };
    },
  });
  t.teardown(() => fixture.stop());
  // a browser auto-posting the RP's form (OIDC Core §3.1.2.1): the parameters in the body, none in the URL
  const post = async () => {
    const { url, state } = await authorizationRequest(fixture.rp);
    const answer = await fetch(`${url.origin}${url.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: url.searchParams.toString(),
    });
    return { answer, state };
  };
  for (let i = 0; i < 3; i += 1) {
    const { answer } = await post();
    t.is(answer.status, 303);
    t.regex(answer.headers.get('location') ?? '', /\/interaction\//);
  }
  const { answer, state } = await post();
  t.is(answer.status, 303, 'the fourth: the RP has had its three');
  const back = new URL(answer.headers.get('location') ?? '');
  t.is(`${back.origin}${back.pathname}`, RP_REDIRECT);
  t.is(back.searchParams.get('error'), 'temporarily_unavailable');
  t.is(back.searchParams.get('state'), state);
  // and a GET for the same RP finds the bucket the POSTs emptied
  const { url } = await authorizationRequest(fixture.rp);
  const get = await fetch(url, { redirect: 'manual' });
  t.is(new URL(get.headers.get('location') ?? '').searchParams.get('error'), 'temporarily_unavailable');
});

test('an authorization request by POST from an address past its bucket is refused before its body is read', async (t) => {
  const fixture = await startGatewayFixture({
    // two authorization requests per address, refilled one per 100 s: nothing refills during the test
    rawConfig: (raw) =>
      (raw.rateLimit = {
        perIp: { capacity: 2, perSecond: 0.01 },
        redisTimeoutMs: PATIENT,
        adaptive: { enabled: false },
      }),
  });
  t.teardown(() => fixture.stop());
  const form = (body: string, query = '') =>
    fetch(`${fixture.url}/auth${query}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body,
    });
  // while the address has tokens, a form the gateway cannot take is refused for what it is
  t.is((await form('a=1&a=2')).status, 400, 'duplicate parameters: REQUEST_INVALID');
  t.is((await form('x'.repeat(70 * 1024))).status, 413, 'over 64 KiB: REQUEST_TOO_LARGE');
  // the address's two are spent: the next forms are refused by its bucket, their bodies never read
  const tooLarge = await form('x'.repeat(70 * 1024));
  t.is(tooLarge.status, 429);
  t.regex(await tooLarge.text(), /RATE_LIMITED/);
  const withQuery = await form('client_id=x', '?client_id=x');
  t.is(withQuery.status, 429);
  t.true(Number(withQuery.headers.get('retry-after')) >= 1);
});
