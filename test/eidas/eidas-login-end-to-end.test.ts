/**
 * eIDAS end to end: openid-client RP → gateway → test eIDAS node (HTTP, signed metadata fetched by URL)
 * → gateway → RP. The node answers with an encrypted, RSA-PSS-signed assertion, whose key the gateway
 * unwraps inside the HSM (SoftHSM `saml_decryption` key, RSA-OAEP); the gateway's request is PSS-signed
 * in the HSM and verified by the node against our published SP metadata.
 * The node sends only eIDAS attributes (no COG code, no test-only mapping): the pivot's birthcountry
 * comes from CountryOfBirth or else the issuing node's country, gender `unspecified` when absent.
 * Also: a legal-person login whose legal claims reach an RP that asks for the `legal_person` scope; a key
 * rollover in the node's metadata picked up by the running gateway (no restart); expired metadata making
 * one IdP unavailable while the others keep working.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { Browser } from '../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { ERIKA } from '../helpers/saml/eidas-node.ts';
import { startEidasNode, type EidasNodeServer } from '../helpers/saml/eidas-node-server.ts';

const COUNTRY_OF_BIRTH = 'http://eidas.europa.eu/attributes/naturalperson/CountryOfBirth';
const COMPANY_RP = 'company-rp';
const token = freshToken();
let node: EidasNodeServer;
let deployment: Deployment;
let running: Awaited<ReturnType<typeof startGatewayInProcess>>;
let rp: oidc.Configuration;
let companyRp: oidc.Configuration;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-eidas-e2e-'));
  const port = await freePort();
  const { gender: _gender, ...withoutGender } = ERIKA;
  const people = {
    erika: ERIKA,
    max: {
      ...ERIKA,
      personIdentifier: 'DE/FR/987654',
      firstName: 'Max',
      gender: 'Male',
      legal: { identifier: 'DE/FR/HRB-12345', name: 'Musterfirma GmbH' },
      extra: { [COUNTRY_OF_BIRTH]: ['AT'] },
    },
    kim: { ...withoutGender, personIdentifier: 'DE/FR/555', firstName: 'Kim' },
  };
  node = await startEidasNode({ spMetadataUrl: `http://127.0.0.1:${port}/saml/metadata`, people });
  const anchor = join(dir, 'eidas-trust-anchor.pem');
  writeFileSync(anchor, node.trustAnchorPem);
  const eidasIdp = (id: string, displayName: string, legalPerson: boolean) => ({
    id,
    kind: 'eidas',
    displayName,
    metadataUrl: node.metadataUrl,
    entityId: node.entityId,
    maxLoa: 'http://eidas.europa.eu/LoA/high',
    metadata: { trustAnchorFiles: [anchor] },
    eidas: { country: 'DE', legalPerson },
  });
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    gatewayPort: port,
    extraKeys: [
      { purpose: 'saml', alg: 'PS256' },
      { purpose: 'saml_decryption', alg: 'RS256' },
    ],
    extraIdps: [
      eidasIdp('eidas-de', 'European identity (Germany)', false),
      eidasIdp('eidas-de-company', 'Company representative (Germany)', true),
    ],
    extraClients: [
      {
        client_id: COMPANY_RP,
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        scope: 'openid profile birth legal_person',
      },
    ],
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  running = await startGatewayInProcess(deployment);
  rp = await oidc.discovery(
    new URL(running.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  companyRp = await oidc.discovery(new URL(running.url), COMPANY_RP, deployment.client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
});
test.after.always(async () => {
  await running?.stop();
  await deployment?.stop();
  await node?.stop();
});

async function login(idp: string, username: string, extra: Record<string, string> = {}, client = rp) {
  // FranceConnect's profile has no birth place: birth is asked for explicitly
  const request = await authorizationRequest(client, { scope: 'openid profile birth email', ...extra });
  const journey = await loginJourney(request.url, { username, idp, redirectUri: RP_REDIRECT });
  return { request, journey, client };
}

async function tokens(result: Awaited<ReturnType<typeof login>>) {
  return oidc.authorizationCodeGrant(result.client, result.journey.url, {
    pkceCodeVerifier: result.request.verifier,
    expectedState: result.request.state,
    expectedNonce: result.request.nonce,
  });
}

test.serial('an eIDAS login with an encrypted, RSA-PSS-signed assertion reaches the RP', async (t) => {
  const result = await login('eidas-de', 'erika', { acr_values: 'eidas3' });
  t.truthy(result.journey.url.searchParams.get('code'), result.journey.html.slice(0, 300));
  const claims = (await tokens(result)).claims()!;
  t.is(claims.given_name, 'Erika');
  t.is(claims.family_name, 'Mustermann');
  t.is(claims.birthdate, '1964-08-12');
  t.is(claims.gender, 'female');
  t.is(claims.birthcountry, '99109', 'Germany (COG), from the issuing node: the node sent no CountryOfBirth');
  t.is(claims.birthplace, '', 'born abroad');
  t.is(claims.acr, 'eidas3');
  const request = node.requests.at(-1)!;
  t.regex(request, /sha256-rsa-MGF1/, 'the AuthnRequest was PSS-signed (and the node verified it)');
  t.regex(request, /<eidas:SPType xmlns:eidas="[^"]+">public<\/eidas:SPType>/);
  t.regex(
    request,
    /Comparison="minimum"><saml:AuthnContextClassRef xmlns:saml="[^"]+">http:\/\/eidas.europa.eu\/LoA\/high</,
  );
  const { rows } = await running.gateway.services.pool.query(
    'select to_state from audit_log where session_id = $1 order by id',
    [result.journey.loginId],
  );
  t.deepEqual(
    rows.map((r: { to_state: string }) => r.to_state),
    ['INITIATED', 'AUTHENTICATING', 'FRAUD_CHECK', 'TOKEN_GENERATION', 'COMPLETED'],
  );
});

test.serial('a company representative logs in with the legal-person data set', async (t) => {
  const result = await login('eidas-de-company', 'max');
  t.truthy(result.journey.url.searchParams.get('code'), result.journey.html.slice(0, 300));
  const claims = (await tokens(result)).claims()!;
  t.is(claims.given_name, 'Max');
  t.is(claims.gender, 'male');
  t.is(claims.birthcountry, '99110', 'Austria (COG), from CountryOfBirth');
  t.is(claims.legal_person_identifier, undefined, 'an RP that did not ask for legal_person gets no legal claims');
  t.is(claims.legal_name, undefined);
});

test.serial(
  'an RP asking for the legal_person scope gets the legal claims in the ID token and from userinfo',
  async (t) => {
    const result = await login('eidas-de-company', 'max', { scope: 'openid profile birth legal_person' }, companyRp);
    t.truthy(result.journey.url.searchParams.get('code'), result.journey.html.slice(0, 300));
    const response = await tokens(result);
    const claims = response.claims()!;
    t.is(claims.legal_person_identifier, 'DE/FR/HRB-12345');
    t.is(claims.legal_name, 'Musterfirma GmbH');
    t.is(claims.given_name, 'Max');
    const userinfo = await oidc.fetchUserInfo(companyRp, response.access_token, claims.sub);
    t.is(userinfo.legal_person_identifier, 'DE/FR/HRB-12345');
    t.is(userinfo.legal_name, 'Musterfirma GmbH');
    t.is(userinfo.birthcountry, '99110');
    const discovery = companyRp.serverMetadata();
    t.true(discovery.scopes_supported?.includes('legal_person'));
    t.true(discovery.claims_supported?.includes('legal_person_identifier'));
  },
);

test.serial('legal attributes sent to the natural-person entry vouch for no company', async (t) => {
  // the node answers max with his company's data set although this entry never asked for it
  const result = await login('eidas-de', 'max', { scope: 'openid profile birth legal_person' }, companyRp);
  t.truthy(result.journey.url.searchParams.get('code'), result.journey.html.slice(0, 300));
  const response = await tokens(result);
  t.is(response.claims()!.given_name, 'Max');
  t.is(response.claims()!.legal_person_identifier, undefined);
  const userinfo = await oidc.fetchUserInfo(companyRp, response.access_token, response.claims()!.sub);
  t.is(userinfo.legal_person_identifier, undefined);
  t.is(userinfo.legal_name, undefined);
});

test.serial('an eIDAS person without Gender logs in as gender unspecified', async (t) => {
  const result = await login('eidas-de', 'kim');
  t.truthy(result.journey.url.searchParams.get('code'), result.journey.html.slice(0, 300));
  const claims = (await tokens(result)).claims()!;
  t.is(claims.given_name, 'Kim');
  t.is(claims.gender, 'unspecified');
  t.is(claims.birthcountry, '99109');
});

test.serial(
  'the SP metadata is signed, lists the RS256, PS256 and ES256 signing keys, the decryption key and the eIDAS extensions',
  async (t) => {
    const xml = await (await fetch(`${running.url}/saml/metadata`)).text();
    // RS256 and ES256 from `hsm/cli.ts init`'s default set, PS256 made for the eIDAS nodes
    t.is(xml.match(/<md:KeyDescriptor use="signing">/g)?.length, 3);
    t.is(xml.match(/<md:KeyDescriptor use="encryption">/g)?.length, 1);
    t.regex(xml, /<alg:SigningMethod Algorithm="http:\/\/www.w3.org\/2007\/05\/xmldsig-more#sha256-rsa-MGF1"\/>/);
    t.notRegex(xml, /SigningMethod Algorithm="[^"]*rsa-sha256"/, 'PKCS#1 v1.5 is not offered to eIDAS nodes');
    t.regex(xml, /entity-attributes\/protocol-version/);
    t.regex(xml, /<md:RequestedAttribute FriendlyName="PersonIdentifier"/);
    t.regex(xml, /^<md:EntityDescriptor[^>]*><ds:Signature/);
  },
);

test.serial('a signing-key rollover published in the node metadata is picked up without restart', async (t) => {
  const monitor = running.gateway.services.adapters.monitor!;
  const before = monitor.status().find((s) => s.id === 'eidas-de')!.keyFingerprints;
  await node.rollKey();
  const stale = await login('eidas-de', 'erika');
  t.is(
    stale.journey.url.searchParams.get('error'),
    'access_denied',
    'signed with the new key, not yet in our metadata',
  );
  const status = await monitor.refresh('eidas-de');
  t.notDeepEqual(status.keyFingerprints, before);
  t.is(status.availability, 'available');
  const fresh = await login('eidas-de', 'erika');
  t.truthy(fresh.journey.url.searchParams.get('code'));
});

test.serial(
  'expired metadata makes that IdP unavailable, hidden from the chooser, while the others keep working',
  async (t) => {
    const monitor = running.gateway.services.adapters.monitor!;
    node.setValidUntil(new Date(Date.now() + 1500));
    await monitor.refresh('eidas-de');
    await monitor.refresh('eidas-de-company');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const status = monitor.status();
    t.is(status.find((s) => s.id === 'eidas-de')!.availability, 'unavailable');
    t.is(status.find((s) => s.id === 'demo-idp')!.availability, 'available');
    const chooser = await new Browser().follow((await authorizationRequest(rp)).url);
    const html = await chooser.response.text();
    t.notRegex(html, /value="eidas-de"/);
    t.regex(html, /value="demo-idp"/);
    const refused = await monitor.refresh('eidas-de');
    t.is(refused.lastError?.code, 'SAML_METADATA_EXPIRED');
    const hinted = await new Browser().follow((await authorizationRequest(rp, { idp_hint: 'eidas-de' })).url);
    t.is(hinted.response.status, 400);
    t.regex(await hinted.response.text(), /IDP_UNAVAILABLE/);
    const demo = await login('demo-idp', 'marie');
    t.truthy(demo.journey.url.searchParams.get('code'));
  },
);
