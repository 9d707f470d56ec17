/**
 * Through the whole gateway (real IdP, Redis, PostgreSQL, HSM): a flood of authorization requests naming an RP's
 * `client_id` from browsers that never logged in takes at most their part of the RP's bucket
 * (`rateLimit.clientKnownDeviceShare`), and a person whose browser logged in before still logs in at that RP.
 */
import test from 'ava';
import { authorizationRequest, redeemCode, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

/** Long: a loaded machine never sends a decision to the instance's local fallback (limits-hold-in-redis tests it). */
const PATIENT = 5_000;
const SLOWEST = 0.001; // one token per 1,000 s: nothing refills while a test runs

test('a person who logged in before still logs in at an RP whose authorization requests new browsers flood', async (t) => {
  const fx = await startGatewayFixture({
    rawConfig: (raw) => {
      const clientId = (raw.clients as Array<{ client_id: string }>)[0]!.client_id;
      raw.rateLimit = {
        // the RP's authorization requests: 10 tokens, 5 of them for browsers without a device cookie together
        clients: { [clientId]: { tier: 'tier_3', perSecond: SLOWEST } },
        clientBurstSeconds: 10_000,
        clientKnownDeviceShare: 0.5,
        redisTimeoutMs: PATIENT,
        // a loaded machine must not halve the buckets mid-test (load shedding is tested on its own)
        adaptive: { enabled: false },
      };
    },
  });
  t.teardown(() => fx.stop());
  // marie logs in from her browser, new then: it now holds a device cookie (set once the IdP's answer was verified)
  const first = await authorizationRequest(fx.rp);
  const marie = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(marie.url.searchParams.get('code'));
  // a flood of authorization requests naming the RP, from browsers without one
  const admittedTo: string[] = [];
  for (let i = 0; i < 12; i++) {
    const request = await authorizationRequest(fx.rp);
    const answer = await fetch(request.url, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location') ?? '', fx.url);
    admittedTo.push(location.searchParams.get('error') ?? location.pathname.split('/')[1]!);
  }
  // marie's login took one of the new browsers' five: four more go to the chooser, the rest go back to the RP
  // refused (without the part kept, nine would have gone and emptied the RP's bucket: 10 − 1 for marie − 9)
  t.deepEqual(admittedTo, [...Array(4).fill('interaction'), ...Array(8).fill('temporarily_unavailable')]);
  // marie comes back (prompt=login: her session would otherwise answer without the IdP), and her code is redeemed
  const again = await authorizationRequest(fx.rp, { prompt: 'login' });
  const back = await loginJourney(again.url, { username: 'marie', redirectUri: RP_REDIRECT, browser: marie.browser });
  t.truthy(back.url.searchParams.get('code'), `her login ended at ${back.url}`);
  const tokens = await redeemCode(fx.rp, again, back.url);
  t.truthy(tokens.access_token);
  t.regex(
    await fx.gateway.services.metrics.registry.metrics(),
    /gateway_ratelimit_refusals_total\{endpoint="authorize",bucket="client_new_browsers",line="redis"\} 8\n/,
  );
});
