/**
 * OpenID Connect Core §3.1.2.1: the authorization endpoint supports GET and POST (form-encoded), with the
 * same behaviour (issue #10 item 7). A fresh browser (no gateway cookie: as when the cookie is not sent
 * on a cross-site POST) completes the login and the RP redeems the code.
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

let fixture: GatewayFixture;
test.before(async () => {
  fixture = await startGatewayFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

test('a form-encoded POST to the authorization endpoint logs the person in like GET does', async (t) => {
  const request = await authorizationRequest(fixture.rp);
  const journey = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    authorizationMethod: 'POST',
  });
  t.is(journey.url.searchParams.get('error'), null, journey.html.slice(0, 300));
  const tokens = await oidc.authorizationCodeGrant(fixture.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  t.is(tokens.claims()?.acr, 'eidas2');
});

test('a POST authorization request with an error is answered like GET: back to the RP with error, state and iss', async (t) => {
  const request = await authorizationRequest(fixture.rp, { prompt: 'none' });
  const journey = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    authorizationMethod: 'POST',
  });
  t.is(journey.url.searchParams.get('error'), 'login_required');
  t.is(journey.url.searchParams.get('state'), request.state);
  t.is(journey.url.searchParams.get('iss'), fixture.url);
});
