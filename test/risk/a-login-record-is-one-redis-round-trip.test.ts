/**
 * Issue #14 (round trips): recording a login's assessment writes what the completion learns from
 * (`risk:learn:{rba}:<login>`) and the person's new score (with the decision computed on a cache miss) in one Redis
 * round trip — two before, one after the other — with, for a login the policy let through, the person's last place
 * (correlation's impossible travel; a login stepped up, flagged or denied never moves it). All are still written; with Redis unreachable the record
 * fails as before, and nothing of it is kept in PostgreSQL.
 * Real Redis and PostgreSQL; round trips counted on ioredis (a command sent alone, or one pipeline).
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import type { Decision } from '../../gateway/policy/decide.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { FraudService } from '../../gateway/translation/fraud-service.ts';
import { redisTraffic } from '../helpers/redis-traffic.ts';
import { redisPrefix } from '../helpers/services.ts';
import { signals, stores } from './fixtures.ts';

const allow: Decision = { kind: 'allow', requiredAcr: 'eidas2', reasons: [] };
const assessment = (score: number) => ({ score, factors: [], stages: [] });

function service(s: Awaited<ReturnType<typeof stores>>, redis = s.redis) {
  return new FraudService({
    redis,
    pool: s.pool,
    audit: new AuditLog(s.pool),
    logger: pino({ level: 'silent' }),
    hashKey: 'k',
    interactionTtl: 600,
  });
}

test.serial(
  'a login record writes the learning data and the new score in one Redis round trip, both kept',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const fraud = service(s);
    await fraud.record(signals({ accountId: 'record-warm' }), assessment(0.1), allow); // the script loaded once
    const accountId = `record-one-trip-${process.pid}-${Date.now()}`;
    const login = signals({ accountId });
    const input = { requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas3', stepUps: 0 } as const;
    const decided = assessment(0.2);
    // a cache miss: the decision computed now is cached by the record, in the command that records the score
    await fraud.decide({ clientId: 'rp', idp: 'idp', accountId }, { ...input, assessment: decided });
    await s.redis.ping();
    const before = { ...redisTraffic };
    await fraud.record(login, decided, allow);
    // outside a request the behaviour vector is read here (in a login it was read by the signals, once per request)
    t.is(redisTraffic.roundTrips - before.roundTrips, 2, 'the vector, then the two writes in one round trip');
    t.is(redisTraffic.commands - before.commands, 4, 'the same three commands, and the place of a login let through');
    t.truthy(await s.redis.get(`corr:{corr}:acct:${accountId}:loc`), 'its place is the person’s last one now');
    const kept = JSON.parse((await s.redis.get(fraud.rba.heldKey(login.loginId)))!) as { accountId: string };
    t.is(kept.accountId, accountId);
    t.is(await s.redis.get(`riskscore:{${accountId}}`), '0.2000');
    t.is(await fraud.cache.version(accountId), 1, 'a first score bumps the version');
  },
);

test.serial('a login stepped up, flagged or denied does not move the person’s last place', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const fraud = service(s);
  const decisions: Decision[] = [
    { kind: 'step_up', requiredAcr: 'eidas2', level: 1, reasons: ['RISK_STEP_UP'] },
    { kind: 'flag', requiredAcr: 'eidas2', reasons: ['RISK_REVIEW'] },
    { kind: 'deny', requiredAcr: 'eidas2', reasons: ['RISK_TOO_HIGH'] },
  ];
  for (const decision of decisions) {
    const accountId = `record-no-place-${decision.kind}-${process.pid}-${Date.now()}`;
    await fraud.record(signals({ accountId }), assessment(0.6), decision);
    t.is(await s.redis.get(`corr:{corr}:acct:${accountId}:loc`), null, decision.kind);
  }
});

test.serial('Redis unreachable: the record fails as before, nothing of it kept in PostgreSQL', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const dead = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: redisPrefix(), commandTimeoutMs: 200 });
  t.teardown(() => dead.disconnect());
  const login = signals({ accountId: 'record-dead' });
  await t.throwsAsync(service(s, dead).record(login, assessment(0.1), allow), { message: /Redis did not answer/ });
  const { rows } = await s.pool.query('select 1 from risk_assessments where login_id = $1', [login.loginId]);
  t.deepEqual(rows, []);
});
