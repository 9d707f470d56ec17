/**
 * The PDP under policy data: each level (0 none, 1 step-up, 2 biometric, 3 token → manual review),
 * review and deny, transaction tiers, a level already satisfied by a step-up, the least level of a login assessed
 * rule-only, per-IdP then per-RP overrides, and validation of the data at boot (`POLICY_INVALID`).
 */
import test from 'ava';
import { evaluate } from '../../../gateway/policy/decide.ts';
import { DEFAULT_POLICY, parsePolicySet, ruleFor } from '../../../gateway/policy/policy-set.ts';
import type { Acr } from '../../../gateway/translate/acr.ts';

const rule = { ...DEFAULT_POLICY, thresholds: { stepUp: 0.5, biometric: 0.65, token: 0.75, review: 0.8, deny: 0.95 } };
const input = (
  score: number,
  o: { tier?: number; idpMaxAcr?: Acr; stepUps?: number; satisfiedLevel?: number } = {},
) => ({
  requiredAcr: 'eidas1' as Acr,
  assertedAcr: 'eidas2' as Acr,
  idpMaxAcr: o.idpMaxAcr ?? ('eidas3' as Acr),
  stepUps: o.stepUps ?? 0,
  satisfiedLevel: o.satisfiedLevel ?? 0,
  assessment: { score, factors: ['f'], stages: [], ...(o.tier === undefined ? {} : { tier: o.tier }) },
});

test('level 0: a low score and a small transaction are allowed', (t) => {
  t.like(evaluate(input(0.1, { tier: 1 }), rule), { kind: 'allow' });
});

test('level 1: step-up at the asserted level (ForceAuthn)', (t) => {
  t.like(evaluate(input(0.5), rule), {
    kind: 'step_up',
    level: 1,
    requiredAcr: 'eidas2',
    reasons: ['RISK_STEP_UP', 'f'],
  });
});

test('level 2: biometric = step-up to eidas3 when the IdP can, manual review when it cannot', (t) => {
  t.like(evaluate(input(0.7), rule), { kind: 'step_up', level: 2, requiredAcr: 'eidas3' });
  t.like(evaluate(input(0.7, { idpMaxAcr: 'eidas2' }), rule), {
    kind: 'flag',
    level: 2,
    reasons: ['LEVEL2_UNAVAILABLE', 'RISK_STEP_UP', 'f'],
  });
});

test('level 3: a physical token is not built, so the login goes to manual review', (t) => {
  t.like(evaluate(input(0.77), rule), { kind: 'flag', level: 3, reasons: ['LEVEL3_UNAVAILABLE', 'RISK_STEP_UP', 'f'] });
});

test('review and deny thresholds', (t) => {
  t.like(evaluate(input(0.8), rule), { kind: 'flag', reasons: ['RISK_REVIEW', 'f'] });
  t.like(evaluate(input(0.95), rule), { kind: 'deny', reasons: ['RISK_TOO_HIGH', 'f'] });
});

test('transaction tiers demand their level whatever the score', (t) => {
  t.like(evaluate(input(0, { tier: 2 }), rule), { kind: 'step_up', level: 1, reasons: ['TRANSACTION_TIER_2', 'f'] });
  t.like(evaluate(input(0, { tier: 4 }), rule), {
    kind: 'step_up',
    level: 2,
    requiredAcr: 'eidas3',
    reasons: ['TRANSACTION_TIER_4', 'f'],
  });
});

test('a level satisfied by this login’s step-up is not asked again; a higher one is, within maxStepUps', (t) => {
  t.like(evaluate(input(0.5, { stepUps: 1, satisfiedLevel: 1 }), rule), { kind: 'allow' });
  t.like(evaluate(input(0.7, { stepUps: 1, satisfiedLevel: 1 }), rule), {
    kind: 'deny',
    reasons: ['RISK_STEP_UP_EXHAUSTED', 'f'],
  });
});

test('a login assessed rule-only (the engine overloaded) needs the rule’s degraded level: a step-up by default', (t) => {
  const ruleOnly = (score: number, o: { stepUps?: number; satisfiedLevel?: number } = {}) => {
    const i = input(score, o);
    return { ...i, assessment: { ...i.assessment, factors: ['pipeline:rule_only', 'f'] } };
  };
  t.like(evaluate(ruleOnly(0), rule), {
    kind: 'step_up',
    level: 1,
    requiredAcr: 'eidas2',
    reasons: ['RISK_DEGRADED_ASSESSMENT', 'pipeline:rule_only', 'f'],
  });
  t.like(evaluate(ruleOnly(0, { stepUps: 1, satisfiedLevel: 1 }), rule), { kind: 'allow' }, 'once stepped up');
  t.like(evaluate(ruleOnly(0, { stepUps: 1 }), rule), { kind: 'allow' }, 'after any step-up (LoA): never a denial');
  t.like(evaluate(ruleOnly(0), { ...rule, maxStepUps: 0 }), { kind: 'allow' }, 'a rule allowing no step-up: no floor');
  t.like(
    evaluate({ ...ruleOnly(0), onSession: true }, rule),
    { kind: 'allow' },
    'an SSO login on a session: its upstream login was assessed when made',
  );
  t.like(
    evaluate(ruleOnly(0.7), rule),
    { kind: 'step_up', level: 2, reasons: ['RISK_STEP_UP'] },
    'a higher score wins',
  );
  t.like(evaluate(ruleOnly(0), { ...rule, degradedLevel: 0 }), { kind: 'allow' }, 'an RP preferring availability');
  t.like(evaluate(ruleOnly(0), { ...rule, degradedLevel: 2 }), { kind: 'step_up', level: 2, requiredAcr: 'eidas3' });
  t.like(evaluate(input(0), rule), { kind: 'allow' }, 'the normal path: the score alone');
});

test('a stage late or failed that nothing makes up later needs the degraded level too; a queued correlation does not', (t) => {
  const withFactors = (factors: string[], o: { stepUps?: number; satisfiedLevel?: number } = {}) => {
    const i = input(0, o);
    return { ...i, assessment: { ...i.assessment, factors } };
  };
  for (const factors of [
    ['device:late', 'device:ip_reputation_only'],
    ['device:error'],
    ['behaviour:late'],
    ['transaction:error'],
    ['correlation:late', 'correlation:fallback_error'],
  ])
    t.like(
      evaluate(withFactors(factors), rule),
      { kind: 'step_up', level: 1, reasons: ['RISK_DEGRADED_ASSESSMENT', ...factors] },
      factors.join(' '),
    );
  t.like(
    evaluate(withFactors(['correlation:late', 'correlation:queued']), rule),
    { kind: 'allow' },
    'a late correlation queued for its late verdict',
  );
  t.like(evaluate(withFactors(['behaviour:no_signal']), rule), { kind: 'allow' }, 'no signal is not a failure');
  t.like(evaluate(withFactors(['device:late'], { stepUps: 1, satisfiedLevel: 1 }), rule), { kind: 'allow' });
  t.like(evaluate({ ...withFactors(['device:late']), onSession: true }, rule), { kind: 'allow' }, 'SSO: no floor');
});

test('overrides apply default ← IdP ← RP', (t) => {
  const set = parsePolicySet({
    idps: { weak: { thresholds: { stepUp: 0.2, biometric: 0.3 } } },
    clients: { bank: { tierLevels: [0, 1, 1, 2, 2] } },
  });
  t.is(ruleFor(set, 'bank', 'weak').thresholds.stepUp, 0.2);
  t.deepEqual(ruleFor(set, 'bank', 'weak').tierLevels, [0, 1, 1, 2, 2]);
  t.deepEqual(ruleFor(set, 'other', 'other'), DEFAULT_POLICY);
  t.like(evaluate(input(0, { tier: 1 }), ruleFor(set, 'bank', 'x')), { kind: 'step_up', level: 1 });
});

for (const [name, raw] of [
  ['an unknown key', { default: { thresholds: { stepup: 0.5 } } }],
  ['a threshold outside 0..1', { clients: { a: { thresholds: { deny: 2 } } } }],
  ['thresholds out of order', { idps: { b: { thresholds: { stepUp: 0.9 } } } }],
  ['a bad tier list', { default: { tierLevels: [0, 1] } }],
  ['an unknown section', { rules: {} }],
  ['a degraded level outside 0..3', { clients: { a: { degradedLevel: 4 } } }],
] as const) {
  test(`policy data with ${name} fails with POLICY_INVALID`, (t) => {
    t.is((t.throws(() => parsePolicySet(raw)) as unknown as { code: string }).code, 'POLICY_INVALID');
  });
}
