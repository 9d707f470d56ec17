/**
 * The ID token's `amr` (RFC 8176) says how the person authenticated upstream — the IdP's `amr` map for
 * the asserted LoA when the operator gave one, else the eIDAS minimum of that LoA — never `["saml"]`.
 * (Step-ups: test/risk/ and test/webauthn/ assert `rba`, `hwk`, `user`.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    default: {
      thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
      tierLevels: [0, 0, 2, 3, 3],
    },
  }),
);
process.env.GW_RISK_POLICY_FILE = policyFile;

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture({
    rawConfig: (raw) => {
      const idps = (raw.saml as { idps: Array<Record<string, unknown>> }).idps;
      // the operator knows this IdP's high level is a smart card with a PIN
      idps[0]!.amr = { 'http://eidas.europa.eu/LoA/high': ['sc', 'pin', 'mfa'] };
    },
  });
});
test.after.always(async () => {
  await fx?.stop();
});

async function amrOf(username: string): Promise<unknown> {
  const request = await authorizationRequest(fx.rp, { acr_values: username === 'jean' ? 'eidas3' : 'eidas2' });
  const journey = await loginJourney(request.url, { username, redirectUri: RP_REDIRECT });
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return tokens.claims()!.amr;
}

test.serial('LoA substantial without an IdP map: the eIDAS minimum, two factors', async (t) => {
  t.deepEqual(await amrOf('marie'), ['mfa']);
});

test.serial('LoA high with the IdP map: what the operator says this IdP does', async (t) => {
  t.deepEqual(await amrOf('jean'), ['sc', 'pin', 'mfa']);
});
