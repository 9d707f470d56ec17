/**
 * A request on an existing gateway session that the session cannot stand for (here: the demo IdP's assertion is
 * `<OneTimeUse/>`, so no request may be answered from it) goes upstream like a first login, on the same gateway
 * session: with two IdPs, the person is shown the chooser, chooses the other IdP there, and logs in.
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { formsIn } from '../../helpers/browser.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { logInAt, startIdpsBed } from './idps-bed.ts';
import { redeem } from './session-bed.ts';

test('on a session that cannot stand for the request, the person chooses an IdP on the chooser and logs in', async (t) => {
  const { bed, stop } = await startIdpsBed(1);
  t.teardown(stop);
  bed.deployment.idp.setResponseOverrides({ extraConditions: '<saml:OneTimeUse/>' });
  const first = await logInAt(bed, 'demo-idp');

  // no prompt=login: a request on the session, which its one-time assertion cannot stand for: the chooser
  const shown = await first.browser.follow((await authorizationRequest(bed.rp)).url);
  t.true(
    formsIn(await shown.response.text()).some((f) => f.action.endsWith('/idp')),
    `the chooser is shown on the session: ${shown.url}`,
  );
  // chosen there: on to the second IdP, and back to the RP with a code
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
    idp: 'second-idp',
    browser: first.browser,
  });
  const code = journey.url.searchParams.get('code');
  t.truthy(code, `back at the RP with a code: ${journey.url}`);
  const tokens = await redeem(bed, code!, request.verifier);
  t.is(decodeJwt(tokens.id_token).sid, first.sid, 'on the same gateway session');
});
