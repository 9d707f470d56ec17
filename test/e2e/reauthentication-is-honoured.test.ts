/**
 * The gateway honours what the RP asks about authentication freshness (issue #10 items 2 and 9), through
 * the whole chain (openid-client RP → gateway → samlify demo IdP):
 * - `prompt=login` and `max_age` send the IdP an AuthnRequest with ForceAuthn="true"; a plain request does not;
 * - the ID token's auth_time is the assertion's AuthnInstant, not the gateway's clock at completion;
 * - a step-up is bound to its own request: while it is pending, no other upstream login can be started
 *   from the chooser (`STEP_UP_PENDING`), so an answer from the IdP's old session cannot satisfy it.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, formsIn } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

/** Goes RP → gateway → chooser → IdP choice, and returns the AuthnRequest the gateway sends the IdP. */
async function authnRequestFor(extra: Record<string, string>): Promise<string> {
  const request = await authorizationRequest(fx.rp, extra);
  const browser = new Browser();
  const chooser = await browser.follow(request.url);
  const choice = formsIn(await chooser.response.text()).find((f) => f.action.endsWith('/idp'))!;
  const sent = await browser.submit(choice, chooser.url, { idp: 'demo-idp' });
  const post = formsIn(await sent.response.text())[0]!;
  return Buffer.from(post.fields.SAMLRequest!, 'base64').toString('utf8');
}

test('a plain authorization request does not force authentication upstream', async (t) => {
  t.false((await authnRequestFor({})).includes('ForceAuthn="true"'));
});

for (const extra of [{ prompt: 'login' }, { max_age: '60' }, { max_age: '0' }] as Record<string, string>[]) {
  test(`${JSON.stringify(extra)} sends the IdP ForceAuthn="true"`, async (t) => {
    t.true((await authnRequestFor(extra)).includes('ForceAuthn="true"'));
  });
}

test('auth_time in the ID token is the AuthnInstant of the assertion that authenticated the person', async (t) => {
  const request = await authorizationRequest(fx.rp, { max_age: '600' });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const assertion = Buffer.from(journey.acsForm!.fields.SAMLResponse!, 'base64').toString('utf8');
  const authnInstant = /AuthnInstant="([^"]+)"/.exec(assertion)![1]!;
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    maxAge: 600,
  });
  t.is(tokens.claims()!.auth_time, Math.floor(Date.parse(authnInstant) / 1000));
});

test('while a step-up is pending, choosing the IdP again is refused: STEP_UP_PENDING', async (t) => {
  // alex authenticates at LoA low; the RP asks eidas2: the policy steps up (ForceAuthn at the IdP)
  const request = await authorizationRequest(fx.rp, { acr_values: 'eidas2' });
  const journey = await loginJourney(request.url, { username: 'alex', redirectUri: RP_REDIRECT });
  t.false(journey.url.toString().startsWith(RP_REDIRECT), 'the gateway asked for a step-up');
  const stepUp = formsIn(journey.html)[0]!;
  t.true(Buffer.from(stepUp.fields.SAMLRequest!, 'base64').toString('utf8').includes('ForceAuthn="true"'));
  const uid = journey.loginId!;
  const again = await journey.browser.request(new URL(`/interaction/${uid}/idp`, fx.url), {
    form: { idp: 'demo-idp' },
    headers: { accept: 'application/json' },
  });
  t.is(again.status, 409);
  t.is(((await again.json()) as { error: string }).error, 'STEP_UP_PENDING');
  const shown = await journey.browser.request(new URL(`/interaction/${uid}`, fx.url), {
    headers: { accept: 'application/json' },
  });
  t.is(shown.status, 409);
});
