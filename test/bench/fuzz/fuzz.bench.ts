/**
 * The fuzzer at full length (issue #15: at least 10,000 inputs per door): the ACS (each input that ends
 * its login gets a fresh one), the token and authorization endpoints, the config loader; the logout doors
 * (end session, its confirmation, /saml/slo) and the WebAuthn doors (step-up, enrolment), each against its
 * own bed. Prints, per door, progress, the answers by status and by code, and every problem with its index;
 * exits 1 when there is any problem.
 *
 *   node test/harness/with-stack.ts -- node test/bench/fuzz/fuzz.bench.ts
 *   FUZZ_N=2000 FUZZ_SEED=7 ...    (BENCH_QUICK=1: 1,000 per door)
 *   FUZZ_DOORS=slo,webauthn-register ...   (some doors only: acs, token, authorize, config, end-session,
 *                                           end-session-confirm, slo, webauthn-authenticate, webauthn-register)
 */
import { startSessionBed } from '../../gateway/session/session-bed.ts';
import {
  fuzzAcs,
  fuzzAuthorize,
  fuzzConfig,
  fuzzToken,
  pendingLogin,
  progress,
  type FuzzSummary,
} from '../../fuzz/endpoints.ts';
import { fuzzEndSession, fuzzEndSessionConfirm, fuzzSlo } from '../../fuzz/logout-doors.ts';
import { startWebAuthnBed } from '../../fuzz/webauthn-bed.ts';
import { fuzzWebAuthnAuthenticate, fuzzWebAuthnRegister } from '../../fuzz/webauthn-doors.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';

const N = Number(process.env.FUZZ_N ?? (process.env.BENCH_QUICK ? 1000 : 10_000));
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const ALL = [
  'acs',
  'token',
  'authorize',
  'config',
  'end-session',
  'end-session-confirm',
  'slo',
  'webauthn-authenticate',
  'webauthn-register',
] as const;
const doors = process.env.FUZZ_DOORS ? process.env.FUZZ_DOORS.split(',') : [...ALL];
for (const door of doors)
  if (!(ALL as readonly string[]).includes(door))
    throw new Error(`FUZZ_DOORS: unknown door ${door} (${ALL.join(', ')})`);
const wants = (door: (typeof ALL)[number]) => doors.includes(door);
progress.every = Math.max(1, Math.floor(N / 20));

const results: FuzzSummary[] = [];
const timed = async (run: () => Promise<FuzzSummary> | FuzzSummary) => {
  const started = performance.now();
  const summary = await run();
  const seconds = (performance.now() - started) / 1000;
  results.push(summary);
  console.log(
    `${summary.door.padEnd(28)} ${String(summary.inputs).padStart(6)} inputs in ${seconds.toFixed(1)} s (${(summary.inputs / seconds).toFixed(1)}/s)  ${JSON.stringify(summary.statuses)}  problems: ${summary.problems.length}`,
  );
  if (Object.keys(summary.codes).length > 0) console.log(`  codes: ${JSON.stringify(summary.codes)}`);
  for (const note of summary.accepted.filter((a) => !a.startsWith('#'))) console.log(`  note: ${note}`);
  for (const problem of summary.problems.slice(0, 20)) console.log(`  ${problem}`);
};

console.log(`seed ${SEED}, ${N} inputs per door (${doors.join(', ')})`);
if (wants('acs') || wants('token') || wants('authorize') || wants('config')) {
  // the messages are under test: no risk policy and no rate limit between the fuzzer and the parsers
  const fx = await startGatewayFixture({
    riskPolicyFile: permissivePolicyFile(),
    rawConfig: (raw) => void (raw.rateLimit = { enabled: false }),
  });
  try {
    if (wants('acs')) await timed(() => fuzzAcs(() => pendingLogin(fx), RP_REDIRECT, SEED, N));
    if (wants('token'))
      await timed(() =>
        fuzzToken(
          fx.url,
          { id: fx.deployment.client.client_id, secret: fx.deployment.client.client_secret },
          SEED + 1,
          N,
        ),
      );
    if (wants('authorize'))
      await timed(async () => fuzzAuthorize((await authorizationRequest(fx.rp)).url, SEED + 2, N));
    if (wants('config')) await timed(() => fuzzConfig(fx.deployment.rawConfig, fx.deployment.env, SEED + 3, N));
  } finally {
    await fx.stop();
  }
}
if (wants('end-session') || wants('end-session-confirm') || wants('slo')) {
  const bed = await startSessionBed();
  try {
    if (wants('end-session')) await timed(() => fuzzEndSession(bed, SEED + 10, N));
    if (wants('end-session-confirm')) await timed(() => fuzzEndSessionConfirm(bed, SEED + 11, N));
    if (wants('slo')) await timed(() => fuzzSlo(bed, SEED + 12, N));
  } finally {
    await bed.stop();
  }
}
if (wants('webauthn-authenticate') || wants('webauthn-register')) {
  const bed = await startWebAuthnBed();
  try {
    if (wants('webauthn-authenticate')) await timed(() => fuzzWebAuthnAuthenticate(bed, SEED + 20, N));
    if (wants('webauthn-register')) await timed(() => fuzzWebAuthnRegister(bed, SEED + 21, N));
  } finally {
    await bed.stop();
  }
}
process.exit(results.some((r) => r.problems.length > 0) ? 1 : 0);
