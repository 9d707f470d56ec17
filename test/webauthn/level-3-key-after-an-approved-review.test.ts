/**
 * A level-3 security key, end to end over HTTP (real gateway, demo IdP, a software authenticator with a
 * test vendor's attestation PKI configured as `webauthn.attestation.rootCertificateFiles`):
 * - a fresh (`prompt=login`) LoA-high login decided at level 3 (a 1,000 € transaction) goes to manual review;
 *   once an operator approves it, the same browser may enrol a level-3 key;
 * - attestation `none` is refused there (WEBAUTHN_ATTESTATION_REQUIRED) and the page offers a new
 *   challenge; a key attested by the configured root is enrolled at level 3 (`packed`), audited;
 * - the new key stands in for level 2 at once, for level 3 only after `webauthn.level3CooldownHours`.
 * The approval is given through the review store the admin API calls (the admin surface is not under test).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { relyingPartyOf } from '../../gateway/webauthn/ceremonies.ts';
import { hasCredentialFor } from '../../gateway/webauthn/step-up.ts';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { attestationPki, type AttestationPki } from './attestation-ca.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

const MODEL = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const dir = mkdtempSync(join(tmpdir(), 'gw-webauthn-l3-'));
writeFileSync(
  join(dir, 'policy.json'),
  JSON.stringify({
    default: {
      thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
      tierLevels: [0, 0, 2, 3, 3],
    },
  }),
);

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: oidc.Configuration;
let vendor: AttestationPki;

test.before(async () => {
  vendor = await attestationPki('Trusted Keys');
  writeFileSync(join(dir, 'vendor-root.pem'), vendor.rootPem);
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    riskPolicyFile: join(dir, 'policy.json'),
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  deployment.rawConfig.webauthn = {
    level3CooldownHours: 72,
    attestation: { rootCertificateFiles: [join(dir, 'vendor-root.pem')], trustedAaguids: [MODEL] },
  };
  gateway = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(
    new URL(gateway.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
});
test.after.always(async () => {
  await gateway?.stop();
  await deployment?.stop();
});

const optionsIn = (html: string) =>
  JSON.parse(
    /<script type="application\/json" id="webauthn-options">([^<]*)<\/script>/
      .exec(html)?.[1]
      ?.replace(/\\u003c/g, '<') ?? 'null',
  ) as { challenge: string } | null;

test('after an approved level-3 review, an attested security key is enrolled at level 3 and waits its cool-down', async (t) => {
  const services = gateway.gateway.services;
  const request = await authorizationRequest(rp, {
    prompt: 'login',
    authorization_details: JSON.stringify([
      { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '1000' } },
    ]),
  });
  const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
  const uid = journey.loginId!;
  t.is(journey.url.pathname, `/interaction/${uid}/review`, 'level 3 without a key: manual review');
  await services.fraud.reviews.decide(uid, 'approved', 'operator:test', 'called back', 1);
  const done = await journey.browser.follow(journey.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  t.true(done.url.toString().startsWith(RP_REDIRECT));

  const register = new URL(`/interaction/${uid}/webauthn/register?level=3&kind=cross-platform`, gateway.url);
  const page = await journey.browser.request(register);
  t.is(page.status, 200);
  const first = optionsIn(await page.text());
  t.truthy(first?.challenge);
  const origin = relyingPartyOf(gateway.url);
  const post = async (key: SoftAuthenticator, attestation: 'none' | AttestationPki, challenge: string) => {
    const response = await key.register({
      challenge,
      origin: origin.origin,
      rpId: origin.rpId,
      attachment: 'cross-platform',
      attestation,
      aaguid: MODEL,
    });
    const answer = await journey.browser.request(register, {
      form: { step: 'register', response: JSON.stringify(response) },
    });
    return { status: answer.status, html: await answer.text() };
  };

  const unattested = await post(new SoftAuthenticator(), 'none', first!.challenge);
  t.is(unattested.status, 400);
  t.regex(unattested.html, /WEBAUTHN_ATTESTATION_REQUIRED/);
  const key = new SoftAuthenticator();
  const attested = await post(key, vendor, optionsIn(unattested.html)!.challenge);
  t.is(attested.status, 200, attested.html.slice(0, 400));
  t.regex(attested.html, /Security key added/);

  const { rows } = await services.pool.query(
    'select account_id, level, attestation_format, aaguid from webauthn_credentials',
  );
  t.like(rows, [{ level: 3, attestation_format: 'packed', aaguid: MODEL }]);
  const audit = await services.pool.query(
    "select details from audit_log where session_id = $1 and to_state = 'WEBAUTHN_ENROLLED'",
    [uid],
  );
  t.like(audit.rows[0]?.details, {
    level: 3,
    attachment: 'cross-platform',
    attestationFormat: 'packed',
    aaguid: MODEL,
  });

  const accountId = rows[0].account_id as string;
  t.true(await hasCredentialFor(services, accountId, 2), 'level 2 at once');
  t.false(await hasCredentialFor(services, accountId, 3), 'level 3 only after the cool-down');
  await services.pool.query("update webauthn_credentials set created_at = now() - interval '73 hours'");
  t.true(await hasCredentialFor(services, accountId, 3), 'level 3 after 72 h');
});
