/**
 * A session revocation commits in PostgreSQL, then reaches Redis; if that Redis write fails (Redis slow or away),
 * the outbox writes it again later (every second at best). Meanwhile the instance that revoked it (and every one
 * the feed told) already knows: a read of the session answers it revoked whatever Redis still says, so no SSO
 * and no code exchange stands on it in that gap (reviewer finding, fifteenth round: only the token guard asked).
 * Real Redis, PostgreSQL, HSM; the samlify demo IdP.
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

test('a session revoked while Redis missed the revocation is read revoked, and stands for no SSO', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const sid = String(decodeJwt(tokens.id_token!).sid);
  const { store, revoker } = fx.gateway.services.sessions;
  const setState = store.hot.setState.bind(store.hot);
  store.hot.setState = () => Promise.resolve('unavailable' as const); // Redis misses the revocation
  try {
    const result = await revoker.revokeSession({ sid }, { actor: 'test', reason: 'Redis misses it' });
    t.is(result.sessions, 1);
    t.false(result.propagated, 'not written to Redis');
    const read = await runWithRequestMemo(() => store.findSession('sid', sid));
    t.is(read?.record.state, 'revoked');
    const silent = await authorizationRequest(fx.rp, { prompt: 'none' });
    const hop = await journey.browser.follow(silent.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    await hop.response.body?.cancel();
    t.is(hop.url.searchParams.get('code'), null, `no SSO on the revoked session: ${hop.url}`);
  } finally {
    store.hot.setState = setState;
  }
});
