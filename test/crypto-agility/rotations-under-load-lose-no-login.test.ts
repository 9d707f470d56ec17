/**
 * PROOF (issue #3): under continuous concurrent logins served by two gateway instances, 20 rotations of
 * the ID-token keys including the algorithm cycle ES256 → EdDSA → PS256 → ES256 lose no login; every ID
 * token verifies against /jwks as fetched when it was received, and every token issued before a
 * rotation still verifies against the final /jwks (retired keys stay published until they expire).
 */
import test from 'ava';
import { ROTATION_PLAN, runRotationsUnderLoad } from './rotation-load.ts';
import { startTwoGateways, type TwoGateways } from './two-gateways.ts';

const LEAD_MS = 600;
let env: TwoGateways;

test.before(async () => {
  env = await startTwoGateways({ keyTimes: { leadTimeMs: LEAD_MS }, keyPollMs: 200, rotation: { intervalMs: 0 } });
});
test.after.always(async () => {
  await env?.stop();
});

test('20 rotations and an ES256 → EdDSA → PS256 → ES256 cycle under load: zero failed logins, every token verifies', async (t) => {
  t.timeout(150_000);
  const result = await runRotationsUnderLoad(env, { concurrency: 3, leadTimeMs: LEAD_MS, switchLeadMs: 5_000 });
  t.log(
    JSON.stringify({ ...result, failures: result.failures.slice(0, 5), lateFailures: result.lateFailures.slice(0, 5) }),
  );
  t.deepEqual(result.failures, [], 'no login failed');
  t.deepEqual(result.lateFailures, [], 'tokens issued before later rotations still verify');
  t.true(result.rotations >= 20);
  t.is(result.rotations, ROTATION_PLAN.length);
  t.is(result.algorithmSwitches, 3);
  t.true(result.logins >= result.rotations, 'logins ran throughout');
  for (const alg of ['ES256', 'EdDSA', 'PS256'])
    t.true((result.algs[alg] ?? 0) > 0, `some ID tokens were signed with ${alg}`);
  t.true(
    result.providerGenerations.a > result.rotations && result.providerGenerations.b > result.rotations,
    'both instances rebuilt their Provider on every change',
  );
  t.is(
    env.a.gateway.services.keys.publishable('id_token').length,
    env.b.gateway.services.keys.publishable('id_token').length,
    'both instances publish the same key set',
  );
});
