/**
 * GET /metrics on a running gateway (operations listener, an operator with the metrics role): the counters move after a real login and after a SAML
 * rejection, the fraud pipeline's counters are in the same exposition, HTTP requests are counted by
 * route pattern, and an IdP whose metadata expired shows `gateway_idp_available 0`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import type { Form } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { parseExposition, valueOf, type Exposition } from './parse-exposition.ts';

const EXPIRED_METADATA = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://expired-idp.example/metadata" validUntil="2001-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://expired-idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;

let fx: GatewayFixture;
test.before(async () => {
  const metadataFile = join(mkdtempSync(join(tmpdir(), 'gw-metrics-')), 'expired-idp.metadata.xml');
  writeFileSync(metadataFile, EXPIRED_METADATA);
  fx = await startGatewayFixture({
    extraIdps: [
      { id: 'expired-idp', displayName: 'Expired IdP', metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/low' },
    ],
  });
});
test.after.always(async () => {
  await fx?.stop();
});

async function scrape(): Promise<Exposition> {
  const response = await fetch(`${fx.opsUrl}/metrics`, {
    headers: { authorization: `Bearer ${fx.deployment.operatorTokens.alice}` },
  });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(response.headers.get('content-type') ?? ''))
    throw new Error('wrong content type');
  return parseExposition(await response.text());
}

function tamper(form: Form): Form {
  const xml = Buffer.from(form.fields.SAMLResponse!, 'base64').toString('utf8').replace('>Marie<', '>Mallory<');
  return { ...form, fields: { ...form.fields, SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') } };
}

test.serial('a completed login moves gateway_logins_total{outcome="completed"} and the fraud counters', async (t) => {
  const before = await scrape();
  t.is(before.types.get('gateway_logins_total'), 'counter');
  t.true(valueOf(before, 'process_start_time_seconds') > 1_600_000_000);
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'));
  await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const after = await scrape();
  t.is(
    valueOf(after, 'gateway_logins_total', { outcome: 'completed' }) -
      valueOf(before, 'gateway_logins_total', { outcome: 'completed' }),
    1,
  );
  t.true(valueOf(after, 'gateway_risk_stage_total') > valueOf(before, 'gateway_risk_stage_total'));
  t.true(valueOf(after, 'gateway_policy_decisions_total') > valueOf(before, 'gateway_policy_decisions_total'));
  t.true(valueOf(after, 'gateway_http_requests_total', { method: 'POST', route: '/saml/acs' }) >= 1);
  // the completion step runs in oidc-provider's resume request (interaction/resume-completion.ts)
  t.true(valueOf(after, 'gateway_http_requests_total', { route: '/auth/:uid' }) >= 1);
  // the latency histograms the benchmarks and budgets name (issue #11 item 7)
  const grew = (name: string, labels: Record<string, string> = {}) =>
    valueOf(after, `${name}_count`, labels) - valueOf(before, `${name}_count`, labels);
  t.is(grew('gateway_login_duration_seconds', { outcome: 'completed' }), 1, 'whole login');
  t.is(grew('gateway_http_request_duration_seconds', { method: 'POST', route: '/saml/acs' }), 1, 'ACS server time');
  t.is(grew('gateway_http_request_duration_seconds', { method: 'POST', route: '/token' }), 1, 'token endpoint');
  for (const stage of ['behaviour', 'device', 'transaction'])
    t.true(grew('gateway_risk_stage_duration_seconds', { stage }) >= 1, `risk stage ${stage}`);
  t.true(valueOf(after, 'gateway_risk_stage_budget_seconds', { stage: 'device' }) > 0, 'each stage shows its budget');
  t.true(
    grew('gateway_hsm_sign_duration_seconds', { outcome: 'ok' }) >= 2,
    'the AuthnRequest and the ID token were signed in the HSM',
  );
  t.true(
    after.samples.some(
      (x) => x.name === 'gateway_hsm_sign_duration_seconds_count' && /^CKM_/.test(x.labels.mechanism ?? ''),
    ),
  );
  t.true(valueOf(after, 'process_cpu_seconds_total') > 0, 'default process metrics');
  for (const s of after.samples.filter((x) => x.name === 'gateway_http_requests_total')) {
    t.false(/^\/interaction\/[^:]/.test(s.labels.route!), `raw path as a label: ${s.labels.route}`);
  }
});

test.serial('a rejected SAML response moves gateway_saml_rejections_total{code} and the failed logins', async (t) => {
  const before = await scrape();
  const journey = await loginJourney((await authorizationRequest(fx.rp)).url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    beforeAcs: tamper,
  });
  t.is(journey.url.searchParams.get('error'), 'access_denied');
  const after = await scrape();
  const code = { code: 'SAML_SIGNATURE_INVALID' };
  t.is(
    valueOf(after, 'gateway_saml_rejections_total', code) - valueOf(before, 'gateway_saml_rejections_total', code),
    1,
  );
  t.is(
    valueOf(after, 'gateway_logins_total', { outcome: 'failed' }) -
      valueOf(before, 'gateway_logins_total', { outcome: 'failed' }),
    1,
  );
});

test.serial('an IdP whose metadata expired shows gateway_idp_available 0, the others 1', async (t) => {
  const metrics = await scrape();
  t.is(metrics.types.get('gateway_idp_available'), 'gauge');
  t.is(valueOf(metrics, 'gateway_idp_available', { idp: 'expired-idp' }), 0);
  t.is(valueOf(metrics, 'gateway_idp_available', { idp: 'demo-idp' }), 1);
  await fx.gateway.services.adapters.monitor!.refresh('expired-idp');
  const later = await scrape();
  t.true(valueOf(later, 'gateway_idp_metadata_events_total', { idp: 'expired-idp', type: 'refresh_failed' }) >= 1);
  t.true(valueOf(later, 'gateway_idp_metadata_events_total', { idp: 'demo-idp', type: 'refreshed' }) >= 1);
});
