/**
 * A session slides while it is used, but the upstream authentication it stands on does not: an SSO login
 * (here `prompt=none`, as a single-page app renews its tokens) is decided only on evidence younger than a session
 * may live (`ttl.session`). Before, each SSO login saved the evidence again and so renewed it: a renewal every
 * half hour kept a days-old authentication standing (reviewer finding, fifteenth round). Real time: `ttl.session`
 * is its minimum, 60 s, and the session is used every 20 s; the test takes about 70 s.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

const SESSION_SECONDS = 60;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('prompt=none keeps the session alive, but past ttl.session after the upstream login it is login_required', async (t) => {
  t.timeout(180_000);
  const fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.ttl = { ...(raw.ttl as Record<string, unknown> | undefined), session: SESSION_SECONDS };
    },
  });
  t.teardown(() => fx.stop());
  const first = await authorizationRequest(fx.rp);
  const journey = await loginJourney(first.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'));
  const loggedInAt = Date.now();
  const renew = async () => {
    const request = await authorizationRequest(fx.rp, { prompt: 'none' });
    const hop = await journey.browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    await hop.response.body?.cancel();
    return hop.url;
  };
  // used every 20 s: the session lives on
  for (const at of [20_000, 40_000]) {
    await pause(loggedInAt + at - Date.now());
    const url = await renew();
    t.truthy(url.searchParams.get('code'), `renewed at ${at / 1000} s: ${url}`);
  }
  await pause(loggedInAt + (SESSION_SECONDS + 5) * 1000 - Date.now());
  const url = await renew();
  t.is(url.searchParams.get('code'), null, `no code on an upstream login ${SESSION_SECONDS + 5} s old: ${url}`);
  t.is(url.searchParams.get('error'), 'login_required');
});
