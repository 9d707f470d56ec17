/**
 * The seam end to end: a gateway whose configuration has a `reference` section serves the reference protocol
 * with no line of the gateway naming it. A person chooses the reference IdP, is sent to its authorize URL with
 * a state and nonce, comes back with a signed assertion to the route the protocol declared
 * (/reference/response), and the RP gets an ID token with the asserted claims. A forged assertion gets the RP
 * `access_denied`, audited with the adapter's own code.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser, formsIn } from '../../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';
import { createReferenceIdp, strangerKey, type ReferenceTestIdp } from '../../helpers/reference/reference-idp.ts';

const AUTHORIZE = 'https://reference-idp.test.example/authorize';
const PERSON = {
  given_name: ['Ada'],
  family_name: ['Lovelace'],
  birthdate: ['1985-12-10'],
  gender: ['female'],
  birthplace: ['75056'],
  birthcountry: ['99100'],
};

let fx: GatewayFixture;
let idp: ReferenceTestIdp;
test.before(async () => {
  idp = await createReferenceIdp();
  fx = await startGatewayFixture({
    riskPolicyFile: permissivePolicyFile(),
    rawConfig: (raw) => {
      raw.reference = {
        idps: [
          {
            id: 'reference-idp',
            displayName: 'Reference IdP',
            issuer: idp.issuer,
            authorizeUrl: AUTHORIZE,
            publicKeyFile: idp.publicKeyFile,
            algorithm: 'ES256',
            maxLoa: 'http://eidas.europa.eu/LoA/substantial',
          },
        ],
      };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
});

/** From the RP to the reference IdP's authorize URL: the browser and what the IdP was sent. */
async function toTheIdp(request: { url: URL }) {
  const browser = new Browser();
  const atIdp = (u: URL) => u.href.startsWith(AUTHORIZE);
  let step = await browser.follow(request.url, {}, atIdp);
  const chooser = formsIn(await step.response.text()).find((f) => f.action.endsWith('/idp'))!;
  step = await browser.submit(chooser, step.url, { idp: 'reference-idp' }, atIdp);
  if (!atIdp(step.url)) throw new Error(`expected the reference IdP, got ${step.url}`);
  return { browser, sent: step.url.searchParams };
}

test.serial('a person logs in through the reference IdP and the RP gets the asserted claims', async (t) => {
  const request = await authorizationRequest(fx.rp, { scope: 'openid profile birth' });
  const { browser, sent } = await toTheIdp(request);
  t.is(sent.get('audience'), `${fx.url}/reference`);
  t.is(sent.get('response_uri'), `${fx.url}/reference/response`);
  const assertion = await idp.assertion(
    { audience: sent.get('audience')!, nonce: sent.get('nonce')! },
    { attributes: PERSON },
  );
  const back = await browser.submit(
    { action: sent.get('response_uri')!, method: 'POST', fields: { assertion, state: sent.get('state')! } },
    new URL(fx.url),
    {},
    (u) => u.href.startsWith(RP_REDIRECT),
  );
  t.truthy(back.url.searchParams.get('code'), back.url.href);
  const tokens = await oidc.authorizationCodeGrant(fx.rp, back.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  t.is(claims.given_name, 'Ada');
  t.is(claims.family_name, 'Lovelace');
  t.is(claims.acr, 'eidas2');
  t.is(claims.birthplace, '75056');
});

test.serial('a forged assertion gets the RP access_denied, audited with the adapter code', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const { browser, sent } = await toTheIdp(request);
  const forged = await idp.assertion(
    { audience: sent.get('audience')!, nonce: sent.get('nonce')! },
    { attributes: PERSON },
    { key: await strangerKey() },
  );
  const back = await browser.submit(
    { action: sent.get('response_uri')!, method: 'POST', fields: { assertion: forged, state: sent.get('state')! } },
    new URL(fx.url),
    {},
    (u) => u.href.startsWith(RP_REDIRECT),
  );
  t.is(back.url.searchParams.get('error'), 'access_denied');
  t.is(back.url.searchParams.get('state'), request.state);
  const { rows } = await fx.gateway.services.pool.query(
    "select error_code from audit_log where error_code = 'REF_SIGNATURE_INVALID'",
  );
  t.is(rows.length, 1);
});

test.serial('the document the protocol declared is served at its URL', async (t) => {
  const response = await fetch(`${fx.url}/reference/metadata`);
  t.is(response.status, 200);
  t.deepEqual(await response.json(), {
    audience: `${fx.url}/reference`,
    response_uri: `${fx.url}/reference/response`,
  });
});

test.serial('the answer route a protocol declares is rate-limited as the ACS', async (t) => {
  const decisions = async () =>
    (await fx.gateway.services.metrics.registry.getSingleMetricAsString('gateway_ratelimit_decisions_total'))
      .split('\n')
      .filter((line) => line.includes('endpoint="acs"'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  const before = await decisions();
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  await fetch(`${fx.url}/reference/response`, { method: 'POST', headers: form, body: 'assertion=x&state=y' });
  t.is(await decisions(), before + 1);
});
