/**
 * `federation.completeAtResume: false` (a cluster upgraded from a version that completed logins at
 * GET /interaction/:uid/complete): the IdP's answer sends the browser through that hop first, so an instance
 * still on the old version, whose resume does not run the completion step, finishes the login too. The default
 * (true) goes straight to the resume (the-resume-completes-the-login.test.ts).
 */
import test from 'ava';
import * as oidc from 'openid-client';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.federation = { ...(raw.federation as object), completeAtResume: false };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
});

test('with completeAtResume false the ACS sends the browser to /interaction/:uid/complete, and the login ends with a code', async (t) => {
  t.false(fx.gateway.services.config.federation.completeAtResume);
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const loginId = journey.loginId!;
  const gateway = journey.browser.trail
    .filter((line) => line.startsWith(`GET ${fx.url}`) || line.startsWith(`POST ${fx.url}`))
    .map((line) => line.replace(fx.url, '').replace(loginId, ':uid'));
  t.deepEqual(gateway.slice(3), ['POST /saml/acs', 'GET /interaction/:uid/complete', 'GET /auth/:uid'], 'the old hop');
  t.is(journey.url.searchParams.get('state'), request.state);
  const done = journey;
  const tokens = await oidc.authorizationCodeGrant(fx.rp, done.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  t.truthy(tokens.id_token);
});
