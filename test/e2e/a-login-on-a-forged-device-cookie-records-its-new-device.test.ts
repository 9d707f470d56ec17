/**
 * A login whose browser sent a forged device cookie is given a fresh one with its answer, and its session records
 * that fresh device: an SSO later without it (the session cookie carried to another browser) weighs as another
 * device (`sso:device_changed`). Before, such a session recorded no device at all, so its cookie replayed anywhere
 * was never weighed as a device change. The login completes on its first pass here under a policy that steps up only
 * above 0.7 (a forged cookie alone weighs 0.5): an RP's own rule, a WebAuthn confirmation or a review approval do the
 * same. Real gateway, Redis, PostgreSQL, SoftHSM2.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { DEFAULT_POLICY } from '../../gateway/policy/policy-set.ts';
import { DEVICE_COOKIE } from '../../gateway/risk/device-cookie.ts';

let fx: GatewayFixture;
test.before(async () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-forged-device-')), 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({ default: { thresholds: { ...DEFAULT_POLICY.thresholds, stepUp: 0.7, biometric: 0.75 } } }),
  );
  fx = await startGatewayFixture({
    rawConfig: (raw) => (raw.risk = { ...(raw.risk as object), policyFile }),
  });
});
test.after.always(async () => {
  await fx?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

async function silently(browser: Browser): Promise<string[]> {
  const request = await authorizationRequest(fx.rp, { prompt: 'none' });
  const landed = await browser.follow(request.url, {}, atRp);
  await landed.response.body?.cancel();
  const { rows } = await fx.gateway.services.pool.query<{ factors: string[] }>(
    "select assessment->'factors' as factors from risk_assessments order by at desc limit 1",
  );
  return rows[0]?.factors ?? [];
}

test.serial('an SSO without the device a forged-cookie login was given weighs as another device', async (t) => {
  const browser = new Browser();
  browser.plant(new URL(fx.url), DEVICE_COOKIE, 'forged-device-id.not-our-signature');
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT, browser });
  t.truthy(journey.url.searchParams.get('code'), `the login completes on its first pass: ${journey.url}`);
  t.false((await silently(browser)).includes('sso:device_changed'), 'the same browser holds the device it was given');
  browser.forget(DEVICE_COOKIE);
  const factors = await silently(browser);
  t.true(factors.includes('sso:device_changed'), `the session cookie without its device: ${JSON.stringify(factors)}`);
});
