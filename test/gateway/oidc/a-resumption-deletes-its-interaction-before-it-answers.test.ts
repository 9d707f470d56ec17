/**
 * Issue #14: oidc-provider's resumption (GET /auth/:uid) deletes the Interaction it consumed; that deletion now
 * travels with the code's writes (deferred-writes.ts) instead of in a round trip of its own. It is still waited
 * for before the answer leaves: the resumed Interaction is gone once the RP has its code, and a deletion that
 * fails hands out no code (the error page, never the redirect). Real gateway, Redis, PostgreSQL and HSM; the
 * deletion's failure is injected on the gateway's own Redis client.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

test('the resumed Interaction is gone when the RP gets its code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const request = await authorizationRequest(fx.rp);
  const done = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(done.url.searchParams.get('code'));
  t.is(await fx.gateway.services.redis.exists(`oidc:Interaction:${done.loginId!}`), 0);
});

test('a resumption whose Interaction cannot be deleted hands out no code', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const redis = fx.gateway.services.redis;
  const del = redis.del.bind(redis) as (...keys: string[]) => Promise<number>;
  let refused = 0;
  (redis as unknown as { del: (...keys: string[]) => Promise<number> }).del = (...keys: string[]) => {
    if (keys.some((k) => String(k).startsWith('oidc:Interaction:'))) {
      refused += 1;
      return Promise.reject(new Error('injected: the deletion failed'));
    }
    return del(...keys);
  };
  t.teardown(() => {
    (redis as unknown as { del: typeof del }).del = del;
  });
  const request = await authorizationRequest(fx.rp);
  const done = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.true(refused >= 1, 'the resumption tried to delete its Interaction');
  t.is(done.url.searchParams.get('code'), null, 'no code handed out');
  t.is(done.status, 500);
  t.regex(done.html, /server_error/);
});
