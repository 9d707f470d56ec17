/**
 * Hostile answers at the WebAuthn doors get a refusal with a stable code, never a 5xx; a refusal moves no
 * counter and adds no credential; an accepted answer is one the oracle accepts too (issue #15, "Fuzzing":
 * the WebAuthn doors). A bounded, seeded subset runs here; `make bench` runs 10,000 inputs per door. A
 * failure names the seed and the input's index.
 */
import test from 'ava';
import { startWebAuthnBed, type WebAuthnBed } from './webauthn-bed.ts';
import { fuzzWebAuthnAuthenticate, fuzzWebAuthnRegister } from './webauthn-doors.ts';

const SEED = Number(process.env.GW_FUZZ_SEED ?? 20261204);
/** Inputs that end a login (an accepted logout, a verified answer) cost a fresh one: fewer than at the other doors. */
const N = Number(process.env.GW_FUZZ_N ?? 40);

let bed: WebAuthnBed;
test.before(async () => {
  bed = await startWebAuthnBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial(
  `${N * 2} mutated step-up assertions: registered codes, the counter moves only for an accepted one`,
  async (t) => {
    const summary = await fuzzWebAuthnAuthenticate(bed, SEED + 20, N * 2);
    t.log(JSON.stringify(summary));
    t.true(
      Object.keys(summary.codes).some((c) => /WEBAUTHN_(RPID_MISMATCH|ORIGIN_MISMATCH|COUNTER_REGRESSION)/.test(c)),
      'some answers pass the parser and meet the ceremony rules',
    );
    t.is(summary.inputs, N * 2);
    t.true((summary.statuses['400'] ?? 0) > 0, 'the fuzzer reaches the refusals');
    t.deepEqual(summary.problems, []);
  },
);

test.serial(
  `${N * 2} mutated registrations: registered codes, a credential only for an answer the oracle accepts`,
  async (t) => {
    const summary = await fuzzWebAuthnRegister(bed, SEED + 21, N * 2);
    t.log(JSON.stringify(summary));
    t.true((summary.statuses.enrolled ?? 0) > 0, 'the oracle meets accepted enrolments too');
    t.is(summary.inputs, N * 2);
    t.true((summary.statuses['400'] ?? 0) > 0, 'the fuzzer reaches the refusals');
    t.deepEqual(summary.problems, []);
  },
);
