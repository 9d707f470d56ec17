/**
 * Hostile input at the logout doors gets a refusal with a stable code, never a 5xx, and a refusal never
 * ends the person's session (issue #15, "Fuzzing": the logout doors). A bounded, seeded subset runs here;
 * `make bench` runs 10,000 inputs per door. A failure names the seed and the input's index.
 */
import test from 'ava';
import { startSessionBed, type SessionBed } from '../gateway/session/session-bed.ts';
import { fuzzEndSession, fuzzEndSessionConfirm, fuzzSlo } from './logout-doors.ts';

const SEED = Number(process.env.GW_FUZZ_SEED ?? 20261204);
/** Inputs that end a login (an accepted logout, a verified answer) cost a fresh one: fewer than at the other doors. */
const N = Number(process.env.GW_FUZZ_N ?? 40);

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial(
  `${N * 2} mutated end-session requests (forged, stale and valid hints): OAuth errors, the session stays`,
  async (t) => {
    const summary = await fuzzEndSession(bed, SEED + 10, N * 2);
    t.log(JSON.stringify(summary));
    t.is(summary.inputs, N * 2);
    t.true((summary.statuses['400'] ?? 0) > 0, 'the fuzzer reaches the refusals');
    t.deepEqual(summary.problems, []);
  },
);

test.serial(`${N} mutated logout confirmations: OAuth errors, a refusal leaves the session`, async (t) => {
  const summary = await fuzzEndSessionConfirm(bed, SEED + 11, N);
  t.log(JSON.stringify(summary));
  t.is(summary.inputs, N);
  t.true((summary.statuses['400'] ?? 0) > 0, 'the fuzzer reaches the refusals');
  t.deepEqual(summary.problems, []);
});

test.serial(
  `${N * 2} mutated SAML logout messages at /saml/slo (POST and Redirect): registered codes, a refusal leaves the session`,
  async (t) => {
    const summary = await fuzzSlo(bed, SEED + 12, N * 2);
    t.log(JSON.stringify(summary));
    t.true(
      Object.keys(summary.codes).some((c) => /SAML_LOGOUT_(SIGNATURE_INVALID|REPLAYED|INRESPONSETO_UNKNOWN)/.test(c)),
      'some inputs pass the parser and meet the logout checks',
    );
    t.true(summary.inputs > N, 'most mutations are still URLs');
    t.true((summary.statuses['400'] ?? 0) > 0, 'the fuzzer reaches the refusals');
    t.deepEqual(summary.problems, []);
  },
);
