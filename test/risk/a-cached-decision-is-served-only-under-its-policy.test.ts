/**
 * The decision cache serves a decision only to the policy that computed it: during a rolling change of the risk
 * policy (instances with the old rules beside instances with the new), an instance with a stricter rule never serves
 * the "allow" an instance with the old rule cached for the same person, input and score. The rule is part of the
 * cache key. Real Redis and PostgreSQL.
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { DEFAULT_POLICY, type PolicySet } from '../../gateway/policy/policy-set.ts';
import { FraudService } from '../../gateway/translation/fraud-service.ts';
import { signals, stores } from './fixtures.ts';

const assessment = { score: 0.3, factors: [], stages: [] };
const input = { requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas3', stepUps: 0, assessment } as const;

test('an instance with a stricter rule does not serve the allow an instance with the old rule cached', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const service = (policies: PolicySet) =>
    new FraudService({
      redis: s.redis,
      pool: s.pool,
      audit: new AuditLog(s.pool),
      logger: pino({ level: 'silent' }),
      hashKey: 'k',
      interactionTtl: 600,
      policies,
    });
  const before = service({ default: DEFAULT_POLICY, clients: {}, idps: {} });
  const stricter = { ...DEFAULT_POLICY, thresholds: { ...DEFAULT_POLICY.thresholds, stepUp: 0.2 } };
  const after = service({ default: stricter, clients: {}, idps: {} });
  const accountId = `policy-in-key-${process.pid}-${Date.now()}`;
  const who = { clientId: 'rp', idp: 'idp', accountId };
  const allowed = await before.decide(who, input);
  t.is(allowed.kind, 'allow', 'the old rule lets a score of 0.3 through');
  // a first score bumps the person's version (nothing cached); a second login with the same score caches its
  // decision, in the command that records the score
  await before.record(signals({ accountId }), assessment, allowed);
  await before.record(signals({ accountId }), assessment, await before.decide(who, input));
  t.deepEqual(await before.decide(who, input), allowed, 'the old rule is served its cached decision');
  t.is(before.cache.hits, 1);
  const decided = await after.decide(who, input);
  t.is(decided.kind, 'step_up', 'the new rule computes its own decision');
  t.is(after.cache.hits, 0);
});
