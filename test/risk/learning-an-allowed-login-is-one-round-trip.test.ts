/**
 * Issue #14 (round trips): after an allowed login, the login held by its record is counted into the person's and
 * everyone's history and consumed in one Redis round trip (one script over the `{rba}` slot) — it was a GETDEL,
 * then the count. Counted once however often the completion asks; a person whose counts Redis lost is loaded from
 * PostgreSQL first (never counted over); a refused login's held data is consumed and never learned; with Redis
 * unreachable the learning fails (the completion logs it) and counts nothing.
 * Real Redis and PostgreSQL; round trips counted on ioredis (a command sent alone, or one pipeline).
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import type { Decision } from '../../gateway/policy/decide.ts';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { GLOBAL_SCOPE } from '../../gateway/risk/rba-store.ts';
import type { RiskSignals } from '../../gateway/risk/types.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { FraudService } from '../../gateway/translation/fraud-service.ts';
import { redisTraffic } from '../helpers/redis-traffic.ts';
import { redisPrefix } from '../helpers/services.ts';
import { durableTotal, signals, stores } from './fixtures.ts';

const allow: Decision = { kind: 'allow', requiredAcr: 'eidas2', reasons: [] };
const assessment = { score: 0.1, factors: [], stages: [] };

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

const person = (name: string) => `${name}-${process.pid}-${Date.now()}`;

async function total(fraud: FraudService, login: RiskSignals, accountId = login.accountId): Promise<number> {
  const { counts } = await fraud.rba.read([`acct:${accountId}`, GLOBAL_SCOPE], deviceFeatures(login, 'k'));
  return counts[0]!.total;
}

test.serial('an allowed login of a person Redis holds is counted and consumed in one round trip, once', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const fraud = service(s);
  const accountId = person('learn-one-trip');
  const first = signals({ accountId });
  await fraud.record(first, assessment, allow);
  await fraud.learn(first.loginId, accountId); // the person's counts exist in Redis; the script loaded
  const login = signals({ accountId });
  await fraud.record(login, assessment, allow);
  await s.redis.ping();
  const before = { ...redisTraffic };
  await fraud.learn(login.loginId, accountId);
  t.is(redisTraffic.roundTrips - before.roundTrips, 1, 'counted and consumed in one round trip');
  t.is(redisTraffic.commands - before.commands, 1, 'one command');
  t.is(await total(fraud, login), 2);
  const [feature, value] = Object.entries(deviceFeatures(login, 'k'))[0]!;
  const { counts } = await fraud.rba.read([`acct:${accountId}`], deviceFeatures(login, 'k'));
  t.is(counts[0]!.count(feature, value), 2, 'each feature counted');
  await fraud.learn(login.loginId, accountId);
  t.is(await total(fraud, login), 2, 'a second completion of the same login counts nothing');
  await durableTotal(s.pool, `acct:${accountId}`, 2); // written behind to PostgreSQL as before
});

test.serial('a person whose counts Redis lost is loaded from PostgreSQL, then counted once', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const fraud = service(s);
  const accountId = person('learn-lost');
  for (let i = 0; i < 2; i += 1) {
    const login = signals({ accountId });
    await fraud.record(login, assessment, allow);
    await fraud.learn(login.loginId, accountId);
  }
  await durableTotal(s.pool, `acct:${accountId}`, 2);
  await s.redis.del(`rba:{rba}:acct:${accountId}`);
  const login = signals({ accountId });
  await fraud.record(login, assessment, allow);
  await fraud.learn(login.loginId, accountId);
  t.is(await total(fraud, login), 3);
  await durableTotal(s.pool, `acct:${accountId}`, 3);
});

test.serial(
  'a login held for another person than the one it completed for is counted for nobody (fifteenth round)',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const fraud = service(s);
    const accountId = person('learn-held');
    const login = signals({ accountId });
    await fraud.record(login, assessment, allow);
    const named = person('learn-named');
    await fraud.learn(login.loginId, named);
    t.is(await total(fraud, login), 0, 'not counted for the person it was held for');
    t.is(await total(fraud, login, named), 0, 'nor for the one it completed for');
  },
);

test.serial('a refused login is never learned: its held data is consumed by the refusal', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const fraud = service(s);
  const accountId = person('learn-refused');
  const login = signals({ accountId });
  await fraud.record(login, assessment, allow);
  await fraud.refused(login.loginId);
  await fraud.learn(login.loginId, accountId);
  t.is(await total(fraud, login), 0);
});

test.serial('Redis unreachable: learning fails (the completion logs it) and counts nothing', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const dead = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: redisPrefix(), commandTimeoutMs: 200 });
  t.teardown(() => dead.disconnect());
  await t.throwsAsync(service(s, dead).learn('learn-dead', person('learn-dead')), { message: /Redis did not answer/ });
});
