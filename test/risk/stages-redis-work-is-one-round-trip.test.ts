/**
 * Issue #14 (round trips): the risk stages whose Redis work needs only the signals begin it when the assessment
 * begins, so that the work of all of them leaves in one round trip — the behaviour vector's read, device trust's
 * read of the counts, correlation's windows (three round trips before, one per stage). Same verdicts; a dead Redis
 * still ends in each stage's degraded mode, with nothing left unhandled.
 * Real Redis and PostgreSQL; round trips counted on ioredis (a command sent alone, or one pipeline).
 */
import test from 'ava';
import { redisTraffic } from '../helpers/redis-traffic.ts';
import { BehaviourStore } from '../../gateway/behaviour/store.ts';
import { CorrelationStage } from '../../gateway/risk/correlation-stage.ts';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { IpReputation } from '../../gateway/risk/ip-reputation.ts';
import { RiskPipeline } from '../../gateway/risk/pipeline.ts';
import { RbaStore } from '../../gateway/risk/rba-store.ts';
import { ReprocessQueue } from '../../gateway/risk/reprocess.ts';
import { buildStages } from '../../gateway/risk/stages.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { redisPrefix } from '../helpers/services.ts';
import { signals, stores } from './fixtures.ts';

/** Budgets a loaded machine always meets: this test counts round trips, not time. */
const UNHURRIED = { budgets: { behaviour: 10_000, device: 10_000, transaction: 10_000, correlation: 10_000 } };

function fourStages(s: Awaited<ReturnType<typeof stores>>, redis = s.redis) {
  const rba = new RbaStore(redis, s.pool);
  const { stages } = buildStages({
    redis,
    behaviour: new BehaviourStore(redis, s.pool, 60),
    rba,
    ipReputation: new IpReputation(),
    reprocess: new ReprocessQueue(s.pool),
    hashKey: 'k',
  });
  return { stages, rba };
}

test.serial('the four stages of a returning person cost one Redis round trip, with the same verdicts', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const { stages, rba } = fourStages(s);
  const login = signals({ accountId: 'one-round-trip', deviceId: 'one-round-trip-device' });
  for (let i = 0; i < 3; i += 1) await rba.learn('acct:one-round-trip', deviceFeatures(login, 'k'));
  const pipeline = new RiskPipeline(stages, UNHURRIED);
  await pipeline.assess(signals({ accountId: 'one-round-trip', deviceId: 'one-round-trip-device' })); // scripts loaded
  await s.redis.ping();
  const before = { ...redisTraffic };
  const a = await pipeline.assess(signals({ accountId: 'one-round-trip', deviceId: 'one-round-trip-device' }));
  t.is(redisTraffic.roundTrips - before.roundTrips, 1, 'the vector, the counts and the windows in one round trip');
  t.is(redisTraffic.commands - before.commands, 3, 'the same three commands');
  t.deepEqual(
    a.stages.map((st) => [st.name, st.outcome, st.degraded]),
    [
      ['behaviour', 'no_signal', true],
      ['device', 'ok', false],
      ['transaction', 'ok', false],
      ['correlation', 'ok', false],
    ],
  );
  t.deepEqual(a.factors, ['transaction:tier0']);
});

test.serial('a stuffer is still caught by the windows begun with the assessment', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const pipeline = new RiskPipeline(fourStages(s).stages, UNHURRIED);
  let last;
  for (let i = 0; i < 4; i += 1)
    last = await pipeline.assess(signals({ accountId: `begun-victim-${i}`, deviceId: 'begun-stuffer' }));
  t.true(last!.factors.includes('correlation:identities_per_device'), last!.factors.join(', '));
  t.like(last!.stages[3], { name: 'correlation', outcome: 'suspicious', degraded: false });
});

test.serial('Redis dead: device trust and correlation end in their degraded modes, nothing unhandled', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  const dead = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: redisPrefix(), commandTimeoutMs: 200 });
  t.teardown(() => dead.disconnect());
  const pipeline = new RiskPipeline(fourStages(s, dead).stages, UNHURRIED);
  const a = await pipeline.assess(signals({ accountId: 'dead-redis' }));
  t.deepEqual(
    a.stages.map((st) => [st.name, st.outcome, st.fallback]),
    [
      ['behaviour', 'error', 'device_fingerprint'],
      ['device', 'error', 'ip_reputation'],
      ['transaction', 'ok', undefined],
      ['correlation', 'queued', 'async_reprocess'],
    ],
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(unhandled, []);
});

test.serial('rule-only: nothing is begun, every stage runs its degraded mode only', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const pipeline = new RiskPipeline(fourStages(s).stages, {
    ...UNHURRIED,
    overload: { shouldRunRuleOnly: () => true, record: () => undefined },
  });
  await s.redis.ping();
  const before = { ...redisTraffic };
  const a = await pipeline.assess(signals({ accountId: 'rule-only' }));
  t.is(redisTraffic.commands - before.commands, 0, 'no stage touched Redis');
  t.true(a.factors.includes('pipeline:rule_only'));
  t.true(a.stages.every((st) => st.degraded));
});

test.serial('a correlation stage run alone (reprocessing, tests) still does its own work', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const verdict = await new CorrelationStage(s.redis).run(signals({ accountId: 'alone' }));
  t.deepEqual(verdict.factors, []);
});
