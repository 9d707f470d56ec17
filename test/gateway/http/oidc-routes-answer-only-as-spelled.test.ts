/**
 * oidc-provider folds letter case and one trailing slash (`/Token/Introspection/` is its introspection endpoint) and
 * answers HEAD with each GET route, while every check in front of it (the rate limits, the HSM shedding, the sector
 * gate, the resumption) compares the path as spelled and the rate limiter takes GET and POST only: a variant spelling
 * or a HEAD was served past them all. Now they answer 404 before oidc-provider (http/provider-paths-as-spelled.ts);
 * the spelled routes, discovery's HEAD and an interaction uid in any case are served as before. Through the whole
 * gateway, with a token bucket of two per address so that a bypass would show.
 */
import test from 'ava';
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { postAsClient } from '../../helpers/as-client.ts';

test('a variant spelling or a HEAD of an oidc-provider route is 404, the route as spelled is served', async (t) => {
  const fixture = await startGatewayFixture({
    rawConfig: (raw) => (raw.rateLimit = { perIp: { capacity: 2, perSecond: 0.01 }, redisTimeoutMs: 5_000 }),
  });
  t.teardown(() => fixture.stop());
  const introspect = (path: string) =>
    postAsClient(fixture.url, path, fixture.deployment.client, { token: 'a-token-never-issued' });
  for (const variant of ['/Token/Introspection', '/token/introspection/', '/TOKEN/INTROSPECTION/']) {
    const answer = await introspect(variant);
    t.is(answer.status, 404, variant);
    await answer.body?.cancel();
  }
  // the spelled route: its bucket of two, then 429 (the variants above took nothing and were not served)
  t.deepEqual(
    [(await introspect('/token/introspection')).status, (await introspect('/token/introspection')).status],
    [200, 200],
  );
  t.is((await introspect('/token/introspection')).status, 429);

  const { url } = await authorizationRequest(fixture.rp);
  const request = new URL(url);
  for (const path of ['/AUTH', '/auth/', '/Auth', '/auth/x%2Fy', '/auth/.', '/auth/abc/']) {
    const answer = await fetch(`${fixture.url}${path}${request.search}`, { redirect: 'manual' });
    t.is(answer.status, 404, path);
    await answer.body?.cancel();
  }
  const head = await fetch(url, { method: 'HEAD', redirect: 'manual' });
  t.is(head.status, 404, 'HEAD /auth: the authorization endpoint is not run outside the rate limits');
  const discovery = await fetch(`${fixture.url}/.well-known/openid-configuration`, { method: 'HEAD' });
  t.is(discovery.status, 200, "discovery's HEAD is served");
  const spelled = await fetch(url, { redirect: 'manual' });
  t.is(spelled.status, 303, 'the authorization request as spelled');
  // the interaction's uid has capitals: /interaction/:uid is ours, served as before
  const interaction = await fetch(new URL(spelled.headers.get('location')!, fixture.url), { redirect: 'manual' });
  t.not(interaction.status, 404);
  await interaction.body?.cancel();
});
