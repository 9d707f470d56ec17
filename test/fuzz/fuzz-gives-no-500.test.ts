/**
 * Hostile input at every door gets a refusal with a stable code, never a 5xx, a code or a token (issue #15,
 * "Fuzzing"). A bounded, seeded subset runs here; `make bench` runs 10,000 inputs per door. A failure names
 * the seed and the input's index: `mutations(input, seed, n)` regenerates it.
 */
import test from 'ava';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { permissivePolicyFile } from '../helpers/permissive-policy.ts';
import { fuzzAcs, fuzzAuthorize, fuzzConfig, fuzzToken, pendingLogin } from './endpoints.ts';

const SEED = Number(process.env.GW_FUZZ_SEED ?? 20261204);
const N = Number(process.env.GW_FUZZ_N ?? 150);
/** Each ACS input that ends its login costs a fresh login: fewer of them. */
const ACS_N = Number(process.env.GW_FUZZ_ACS_N ?? 60);

let fx: GatewayFixture;
test.before(async () => {
  // one person logs in from many fresh browsers and the fuzzer fails on purpose: the messages are under
  // test, not the risk policy nor the rate limits
  fx = await startGatewayFixture({
    riskPolicyFile: permissivePolicyFile(),
    rawConfig: (raw) => void (raw.rateLimit = { enabled: false }),
  });
});
test.after.always(async () => {
  await fx?.stop();
});

async function codesIssued(): Promise<number> {
  return (await fx.gateway.services.redis.keys(`${fx.gateway.services.config.redis.keyPrefix}oidc:AuthorizationCode:*`))
    .length;
}

test.serial(
  `${ACS_N} mutated SAML responses at the ACS: no 5xx, every refusal a registered code, a known login ends with an error at the RP, a code only for the identity as signed`,
  async (t) => {
    const before = await codesIssued();
    const summary = await fuzzAcs(() => pendingLogin(fx), RP_REDIRECT, SEED, ACS_N);
    t.log(
      JSON.stringify({
        ...summary,
        accepted: summary.accepted.length,
        sameIdentityCodes: summary.accepted.filter((a) => a.includes(': code,')),
      }),
    );
    t.is(summary.inputs, ACS_N);
    t.deepEqual(summary.problems, []);
    // the only codes: the baseline's and those whose identity was found to be exactly the signed one
    t.is(
      await codesIssued(),
      before + 1 + summary.accepted.filter((a) => a.includes(': code,')).length,
      'the baseline and the accepted ones only',
    );
  },
);

test.serial(`${N} mutated token requests: always an OAuth JSON error, never a token or a 5xx`, async (t) => {
  const summary = await fuzzToken(
    fx.url,
    { id: fx.deployment.client.client_id, secret: fx.deployment.client.client_secret },
    SEED + 1,
    N,
  );
  t.log(JSON.stringify(summary));
  t.true(summary.inputs === N);
  t.deepEqual(summary.problems, []);
});

test.serial(`${N} mutated authorization requests: no 5xx, no code`, async (t) => {
  const request = await authorizationRequest(fx.rp);
  const summary = await fuzzAuthorize(request.url, SEED + 2, N);
  t.log(JSON.stringify(summary));
  t.true(summary.inputs > N / 2, 'most mutations are still URLs');
  t.deepEqual(summary.problems, []);
});

test(`${N * 10} mutated configuration files: loaded or refused with a ConfigError, never a crash`, (t) => {
  const summary = fuzzConfig(fx.deployment.rawConfig, fx.deployment.env, SEED + 3, N * 10);
  t.log(JSON.stringify(summary));
  t.true((summary.statuses.ConfigError ?? 0) > 0, 'the fuzzer reaches the validator');
  t.deepEqual(summary.problems, []);
});
