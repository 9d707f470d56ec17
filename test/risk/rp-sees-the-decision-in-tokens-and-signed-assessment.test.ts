/**
 * The decision reaches the RP (real gateway, demo IdP, openid-client RP, default policy):
 * - a first login from a new device is allowed (cold start), the access token carries `fraud_score`, and
 *   the RP fetches the signed assessment of its own login (ES384 audit key), four stages recorded;
 * - the behavioural side channel feeds stage 1 when the page's script sends its vector;
 * - a transaction of 120 € (tier 2) demands a level-1 step-up: the IdP is asked again (ForceAuthn) and
 *   `amr` says so.
 */
import test from 'ava';
import { compactVerify, importJWK } from 'jose';
import * as oidc from 'openid-client';
import { formsIn } from '../helpers/browser.ts';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { continueAfterStepUp, loginJourney } from '../helpers/login-journey.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});
const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

test.serial(
  'a first login is allowed; the access token carries fraud_score; the RP gets a signed assessment',
  async (t) => {
    const request = await authorizationRequest(fx.rp);
    const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
    t.true(atRp(journey.url));
    const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    t.deepEqual(tokens.claims()!.amr, ['mfa'], 'RFC 8176: LoA substantial is two factors');
    const introspection = await oidc.tokenIntrospection(fx.rp, tokens.access_token);
    t.is(typeof introspection.fraud_score, 'number');

    const response = await fetch(`${fx.url}/risk/assessment`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    t.is(response.status, 200);
    // verified as an RP does: with the gateway's published /jwks; signed by its own key, never the audit key
    const jwks = (await (await fetch(`${fx.url}/jwks`)).json()) as { keys: Array<{ kid: string; alg: string }> };
    const jws = await response.text();
    const kid = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    t.not(kid, fx.gateway.services.keys.activeSigner('audit').kid, 'not the audit key');
    const published = jwks.keys.find((k) => k.kid === kid);
    t.truthy(published, 'the assessment key is in /jwks');
    const { payload, protectedHeader } = await compactVerify(jws, await importJWK(published as never, published!.alg));
    t.is(protectedHeader.typ, 'risk-assessment+jwt');
    const claims = JSON.parse(new TextDecoder().decode(payload));
    t.like(claims, { aud: 'demo-rp', decision: 'allow', fraud_score: introspection.fraud_score });
    t.deepEqual(
      claims.stages.map((s: { name: string }) => s.name),
      ['behaviour', 'device', 'transaction', 'correlation'],
    );
    t.like(claims.stages[0], { outcome: 'no_signal', degraded: true }, 'no script ran in this scripted browser');
    t.is((await fetch(`${fx.url}/risk/assessment`, { headers: { authorization: 'Bearer not-a-token' } })).status, 404);
  },
);

test.serial('the behavioural side channel feeds stage 1 for its own interaction only', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const browser = new Browser();
  const chooser = await browser.follow(request.url, {}, atRp);
  const html = await chooser.response.text();
  t.regex(html, /<script data-uid="[\w-]+">/, 'the chooser includes the script');
  const loginId = chooser.url.pathname.split('/')[2]!;
  const vector = {
    pointer: { n: 40, path: 700, straightness: 0.6, speed: 0.5, speedSd: 0.2, pauses: 1 },
    keys: { n: 0, interval: 0, intervalSd: 0, hold: 0 },
    orientation: { n: 0, betaSd: 0, gammaSd: 0 },
    dwell: 3000,
    timerMs: 0.1,
    timeZone: 'Europe/Paris',
    screen: '1920x1080',
    platform: 'Linux x86_64',
  };
  const post = (body: unknown, cookie: string) =>
    fetch(`${fx.url}/interaction/${loginId}/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(body),
    });
  t.is((await post(vector, '')).status, 400, 'another browser (no interaction cookie) is refused');
  t.is(
    (await post({ ...vector, raw: [1, 2] }, browser.cookieHeader(chooser.url))).status,
    400,
    'unknown fields refused',
  );
  t.is((await post(vector, browser.cookieHeader(chooser.url))).status, 204);
  let step = await browser.submit(
    formsIn(html).find((f) => f.action.endsWith('/idp'))!,
    chooser.url,
    { idp: 'demo-idp' },
    atRp,
  );
  let page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, {}, atRp); // AuthnRequest → IdP login form
  page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, { username: 'jean', password: 'jean-demo' }, atRp);
  page = await step.response.text();
  step = await browser.submit(formsIn(page)[0]!, step.url, {}, atRp); // SAMLResponse → ACS → RP
  t.true(atRp(step.url));
  const { rows } = await fx.gateway.services.pool.query('select assessment from risk_assessments where login_id = $1', [
    loginId,
  ]);
  t.like(rows[0].assessment.stages[0], { name: 'behaviour', outcome: 'ok', degraded: false });
  const signals = await fx.gateway.services.pool.query('select features from risk_signals where login_id = $1', [
    loginId,
  ]);
  t.false(JSON.stringify(signals.rows[0].features).includes('1920x1080'), 'fingerprint values are stored hashed');
});

test.serial('a 120 € transaction (tier 2) demands a step-up: the IdP is asked again and amr says so', async (t) => {
  const transaction = JSON.stringify([
    { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '120.00' } },
  ]);
  const request = await authorizationRequest(fx.rp, { authorization_details: transaction });
  const first = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.false(atRp(first.url), 'not finished: stepped up');
  const step = await continueAfterStepUp(first, { username: 'marie', redirectUri: RP_REDIRECT }); // AuthnRequest with ForceAuthn
  t.true(atRp(step.url));
  const tokens = await oidc.authorizationCodeGrant(fx.rp, step.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  t.deepEqual(tokens.claims()!.amr, ['mfa', 'rba'], 'RFC 8176: a risk-based step-up');
  const { rows } = await fx.gateway.services.pool.query(
    'select from_state, to_state, details from audit_log where session_id = $1 order by audit_log.seq',
    [first.loginId],
  );
  t.true(
    rows.some(
      (r) => r.from_state === 'FRAUD_CHECK' && r.to_state === 'AUTHENTICATING' && r.details.forceAuthn === true,
    ),
  );
});
