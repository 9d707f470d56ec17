/**
 * The fuzzer at full length (issue #15: at least 10,000 inputs per door): the ACS (each input that ends
 * its login gets a fresh one), the token and authorization endpoints, the config loader. Prints, per door,
 * the answers by status and every problem with its index; exits 1 when there is any problem.
 *
 *   node test/harness/with-stack.ts -- node test/bench/fuzz/fuzz.bench.ts
 *   FUZZ_N=2000 FUZZ_SEED=7 ...    (BENCH_QUICK=1: 1,000 per door)
 */
import { fuzzAcs, fuzzAuthorize, fuzzConfig, fuzzToken, pendingLogin, type FuzzSummary } from '../../fuzz/endpoints.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';

const N = Number(process.env.FUZZ_N ?? (process.env.BENCH_QUICK ? 1000 : 10_000));
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);

// the messages are under test: no risk policy and no rate limit between the fuzzer and the parsers
const fx = await startGatewayFixture({
  riskPolicyFile: permissivePolicyFile(),
  rawConfig: (raw) => void (raw.rateLimit = { enabled: false }),
});
const results: FuzzSummary[] = [];
const timed = async (run: () => Promise<FuzzSummary> | FuzzSummary) => {
  const started = performance.now();
  const summary = await run();
  const seconds = (performance.now() - started) / 1000;
  results.push(summary);
  console.log(
    `${summary.door.padEnd(16)} ${String(summary.inputs).padStart(6)} inputs in ${seconds.toFixed(1)} s  ${JSON.stringify(summary.statuses)}  problems: ${summary.problems.length}`,
  );
  for (const problem of summary.problems.slice(0, 20)) console.log(`  ${problem}`);
};
try {
  console.log(`seed ${SEED}, ${N} inputs per door (the ACS: a fresh login after each input that ends one)`);
  await timed(() => fuzzAcs(() => pendingLogin(fx), RP_REDIRECT, SEED, N));
  await timed(() =>
    fuzzToken(fx.url, { id: fx.deployment.client.client_id, secret: fx.deployment.client.client_secret }, SEED + 1, N),
  );
  await timed(async () => fuzzAuthorize((await authorizationRequest(fx.rp)).url, SEED + 2, N));
  await timed(() => fuzzConfig(fx.deployment.rawConfig, fx.deployment.env, SEED + 3, N));
} finally {
  await fx.stop();
}
process.exit(results.some((r) => r.problems.length > 0) ? 1 : 0);
