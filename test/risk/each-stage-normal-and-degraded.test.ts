/**
 * Each of the four risk stages, on its normal path and in its degraded mode (slowness and failure injected
 * into the stage, real Redis and PostgreSQL underneath). The assessment records, per stage, the outcome,
 * the time taken, whether it degraded and what ran instead.
 */
import test from 'ava';
import { BehaviourStore } from '../../gateway/behaviour/store.ts';
import type { BehaviourVector } from '../../gateway/behaviour/features.ts';
import { BehaviourStage } from '../../gateway/risk/behaviour-stage.ts';
import { CorrelationStage, placeOf, rememberPlace } from '../../gateway/risk/correlation-stage.ts';
import { DeviceTrustStage, deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { IpReputation, MAX_SCORE, WINDOW_MS } from '../../gateway/risk/ip-reputation.ts';
import { RiskPipeline, type StageContext, type StageOutput } from '../../gateway/risk/pipeline.ts';
import { RbaStore } from '../../gateway/risk/rba-store.ts';
import { ReprocessQueue } from '../../gateway/risk/reprocess.ts';
import { TransactionRiskStage } from '../../gateway/risk/transaction-stage.ts';
import type { RiskSignals } from '../../gateway/risk/types.ts';
import { durableTotal, signals, sleep, stores } from './fixtures.ts';

/**
 * Budgets for the normal paths: a shared, loaded machine must not turn a normal path into a degraded one.
 * Lateness is tested with injected slowness against the default budgets.
 */
const UNHURRIED = { budgets: { behaviour: 10_000, device: 10_000, transaction: 10_000, correlation: 10_000 } };

const vector = (over: Partial<BehaviourVector> = {}): BehaviourVector => ({
  pointer: { n: 80, path: 900, straightness: 0.7, speed: 0.6, speedSd: 0.3, pauses: 2 },
  keys: { n: 0, interval: 0, intervalSd: 0, hold: 0 },
  orientation: { n: 0, betaSd: 0, gammaSd: 0 },
  dwell: 4200,
  timerMs: 0.1,
  timeZone: 'Europe/Paris',
  screen: '1920x1080',
  platform: 'Linux x86_64',
  ...over,
});

class SlowBehaviourStore extends BehaviourStore {
  override async load(loginId: string) {
    await sleep(300);
    return super.load(loginId);
  }
}

test('behaviour: a vector arrives — metronomic typing and an instant choice are suspicious, in time', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new BehaviourStore(s.redis, s.pool, 60);
  const login = signals();
  await store.save(login.loginId, vector({ keys: { n: 12, interval: 100, intervalSd: 1, hold: 80 }, dwell: 120 }));
  const a = await new RiskPipeline([new BehaviourStage(store)], UNHURRIED).assess(login);
  t.like(a.stages[0], { name: 'behaviour', degraded: false });
  t.deepEqual(a.factors, ['behaviour:metronomic_typing', 'behaviour:instant_choice']);
  t.true(a.score > 0.4 && a.score < 0.5);
});

test('behaviour: no vector (no script ran) falls back to the device fingerprint', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const a = await new RiskPipeline([new BehaviourStage(new BehaviourStore(s.redis, s.pool, 60))], UNHURRIED).assess(
    signals({ userAgent: 'HeadlessChrome/120', fingerprint: { ...signals().fingerprint!, deviceType: 'bot' } }),
  );
  t.like(a.stages[0], { name: 'behaviour', outcome: 'no_signal', degraded: true, fallback: 'device_fingerprint' });
  t.deepEqual(a.factors, ['behaviour:automation_user_agent']);
});

test('behaviour: late (over 50 ms) falls back to the device fingerprint', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const a = await new RiskPipeline([new BehaviourStage(new SlowBehaviourStore(s.redis, s.pool, 60))]).assess(signals());
  t.like(a.stages[0], { name: 'behaviour', outcome: 'late', degraded: true, fallback: 'device_fingerprint', score: 0 });
  t.deepEqual(a.factors, ['behaviour:late']);
});

async function history(store: RbaStore, login: RiskSignals, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await store.learn(`acct:${login.accountId}`, deviceFeatures(login, 'k'));
}

test('device: first login is not held against the person; a familiar context scores low; an unfamiliar one high', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const stage = new DeviceTrustStage({ store, hashKey: 'k', ipReputation: new IpReputation() });
  const pipeline = new RiskPipeline([stage], UNHURRIED);
  const home = signals();
  t.deepEqual((await pipeline.assess(home)).factors, ['device:first_login']);
  await history(store, home, 8);
  for (let i = 0; i < 30; i += 1) {
    await store.learn(
      `acct:other-${i}`,
      deviceFeatures(
        signals({
          accountId: `other-${i}`,
          ip: `198.51.100.${i}`,
          deviceId: `dev-${i}`,
          network: { prefix: `198.51.${i}.0/24`, asn: String(i), country: 'DE', lat: null, lon: null },
        }),
        'k',
      ),
    );
  }
  const familiar = await pipeline.assess(signals());
  const attacker = await pipeline.assess(
    signals({
      ip: '203.0.113.9',
      userAgent: 'curl/8',
      deviceId: 'evil-device-xxxxxxxxxx',
      fingerprint: {
        uaFamily: 'other',
        os: 'other',
        deviceType: 'unknown',
        languages: 'en-us',
        timeZone: 'Asia/Tokyo',
        screen: '800x600',
        platform: 'x',
      },
      network: { prefix: '203.0.113.0/24', asn: '999', country: 'JP', lat: null, lon: null },
    }),
  );
  t.like(familiar.stages[0], { degraded: false, outcome: 'ok' });
  t.true(familiar.score < 0.2, `familiar ${familiar.score}`);
  t.true(attacker.score > 0.5, `attacker ${attacker.score}`);
  t.true(attacker.factors.includes('device:unfamiliar'));
});

test('device: counts survive losing Redis (reloaded from PostgreSQL)', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const login = signals({ accountId: 'durable' });
  await history(store, login, 3);
  await durableTotal(s.pool, 'acct:durable', 3); // write-behind
  await s.redis.del('rba:{rba}:acct:durable', 'rba:{rba}:global');
  const { counts } = await store.read(['acct:durable'], deviceFeatures(login, 'k'));
  t.is(counts[0]!.total, 3);
});

class FailingRbaStore extends RbaStore {
  override async read(): Promise<never> {
    throw new Error('injected failure');
  }
}

test('device: failing degrades to IP reputation only', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const reputation = new IpReputation();
  for (let i = 0; i < 5; i += 1) reputation.record('203.0.113.0/24', 'bad', `refused-${i}`);
  const stage = new DeviceTrustStage({ store: new FailingRbaStore(s.redis), hashKey: 'k', ipReputation: reputation });
  const a = await new RiskPipeline([stage], UNHURRIED).assess(
    signals({ network: { prefix: '203.0.113.0/24', asn: null, country: 'ZZ', lat: null, lon: null } }),
  );
  t.like(a.stages[0], { name: 'device', outcome: 'error', degraded: true, fallback: 'ip_reputation' });
  t.deepEqual(a.factors, ['device:error', 'device:ip_reputation_only']);
  t.true(Math.abs(a.score - MAX_SCORE) < 1e-9, 'five refused identities of eight: 5/8, capped');
});

test('IP reputation counts identities, forgets after its window, and alone never reaches a step-up', (t) => {
  let now = Date.now();
  const reputation = new IpReputation(100, () => now);
  const nat = '198.51.100.0/24';
  // one attacker's few identities refused again and again (prompt=none after prompt=none)
  for (let i = 0; i < 500; i += 1) reputation.record(nat, 'bad', `attacker-${i % 2}`);
  t.is(reputation.score(nat), 2 / 5, 'two identities, not 500 events');
  for (let i = 0; i < 20; i += 1) reputation.record(nat, 'good', `neighbour-${i}`);
  t.is(reputation.score(nat), 2 / 25, 'the network’s other people count for it');
  for (let i = 0; i < 1000; i += 1) reputation.record(nat, 'bad', `bot-${i}`);
  t.is(reputation.score(nat), MAX_SCORE, 'refused identities counted up to 32 (32 / 55), capped');
  for (let i = 0; i < 1000; i += 1) reputation.record(nat, 'good', `neighbour-${i % 20}`);
  t.is(reputation.score(nat), 32 / 1055, 'a busy network’s completed logins (1,020) outweigh them');
  for (let i = 0; i < 1000; i += 1) reputation.record('203.0.113.0/24', 'bad', `bot-${i}`);
  t.true(
    reputation.score('203.0.113.0/24') <= MAX_SCORE && MAX_SCORE < 0.5,
    'never past the default step-up threshold alone',
  );
  now += WINDOW_MS + 1;
  t.is(reputation.score(nat), 0, 'a day later the network starts afresh');
});

test('transaction: tiers and novelty raise the score; the tier reaches the policy', async (t) => {
  const pipeline = new RiskPipeline([new TransactionRiskStage()], UNHURRIED);
  const small = await pipeline.assess(signals({ transaction: { type: 'payment_initiation', amountEur: 20 } }));
  const large = await pipeline.assess(signals({ transaction: { type: 'payment_initiation', amountEur: 9_000 } }));
  t.is(small.tier, 1);
  t.is(large.tier, 4);
  t.true(large.score > small.score);
  t.like(large.stages[0], { name: 'transaction', degraded: false });
});

class SlowTransactionStage extends TransactionRiskStage {
  override async run(...args: Parameters<TransactionRiskStage['run']>): Promise<StageOutput> {
    await sleep(400);
    return super.run(...args);
  }
}

test('transaction: late accepts with a warning recorded for the RP', async (t) => {
  const a = await new RiskPipeline([new SlowTransactionStage()]).assess(
    signals({ transaction: { type: 'p', amountEur: 900 } }),
  );
  t.like(a.stages[0], {
    name: 'transaction',
    outcome: 'late',
    degraded: true,
    fallback: 'accept_with_warning',
    score: 0,
  });
  t.deepEqual(a.warnings, ['TRANSACTION_RISK_UNAVAILABLE']);
  t.is(a.tier, 3, 'the tier is still known to the policy');
});

test('correlation: one device trying many identities, and impossible travel', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const pipeline = new RiskPipeline([new CorrelationStage(s.redis)], UNHURRIED);
  let last;
  for (let i = 0; i < 4; i += 1)
    last = await pipeline.assess(signals({ accountId: `victim-${i}`, deviceId: 'stuffer' }));
  t.true(last!.factors.includes('correlation:identities_per_device'));
  const home = signals({ accountId: 'traveller', at: Date.now() - 30 * 60_000 });
  await pipeline.assess(home);
  await rememberPlace(s.redis, 'traveller', placeOf(home)!); // that login was let through (its record, with an allow)
  const tokyo = await pipeline.assess(
    signals({
      accountId: 'traveller',
      network: { prefix: '203.0.113.0/24', asn: null, country: 'JP', lat: 35.68, lon: 139.69 },
    }),
  );
  t.true(tokyo.factors.includes('correlation:impossible_travel'));
  t.like(tokyo.stages[0], { degraded: false, outcome: 'suspicious' });
});

/**
 * Late by construction, whatever its budget: it answers only once the pipeline gave up on it. The degraded
 * mode (a PostgreSQL insert) runs under the same budget, so the budget is one a loaded machine's commit
 * (fsync) always meets; with the default 300 ms an insert slower than that made this test see `error`.
 */
class LateCorrelationStage extends CorrelationStage {
  override async run(_login: RiskSignals, _context?: StageContext, signal?: AbortSignal): Promise<StageOutput> {
    if (!signal) throw new Error('the pipeline passes an abort signal');
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    signal.throwIfAborted();
    throw new Error('unreachable: aborted');
  }
}

test('correlation: late is queued in PostgreSQL; the late verdict is reached asynchronously and can revoke', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const queue = new ReprocessQueue(s.pool);
  const slow = new LateCorrelationStage(s.redis, { queue, budgetMs: 3_000 });
  const pipeline = new RiskPipeline([slow]);
  for (let i = 0; i < 7; i += 1)
    await new CorrelationStage(s.redis).evaluate(signals({ accountId: `v-${i}`, deviceId: 'farm' }));
  const a = await pipeline.assess(signals({ accountId: 'v-8', deviceId: 'farm', loginId: 'late-login' }));
  t.like(a.stages[0], { name: 'correlation', outcome: 'queued', degraded: true, fallback: 'async_reprocess' });
  const { rows } = await s.pool.query("select status from risk_reprocess where login_id = 'late-login'");
  t.deepEqual(rows, [{ status: 'pending' }]);
  const revoked: string[] = [];
  const done = await queue.processPending(
    (x) => new CorrelationStage(s.redis).evaluate(x),
    async (x, verdict) => {
      if (verdict.score >= 0.5) revoked.push(x.loginId);
    },
  );
  t.is(done, 1);
  t.deepEqual(revoked, ['late-login']);
  const after = await s.pool.query(
    "select status, verdict->'factors' as factors from risk_reprocess where login_id = 'late-login'",
  );
  t.is(after.rows[0].status, 'done');
  t.true(after.rows[0].factors.includes('correlation:identities_per_device'));
});

test('correlation: a late login allowed meanwhile is still compared with the place before it (impossible travel)', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const queue = new ReprocessQueue(s.pool);
  const accountId = `traveller-${process.pid}`;
  const paris = { prefix: '203.0.113.0/24', asn: null, country: 'FR', lat: 48.8566, lon: 2.3522 };
  const tokyo = { prefix: '198.51.100.0/24', asn: null, country: 'JP', lat: 35.6895, lon: 139.692 };
  const home = signals({ accountId, network: paris, at: Date.now() - 30 * 60_000 });
  await rememberPlace(s.redis, accountId, placeOf(home)!);
  const away = signals({ accountId, network: tokyo, loginId: `away-${process.pid}` });
  const a = await new RiskPipeline([new LateCorrelationStage(s.redis, { queue, budgetMs: 3_000 })]).assess(away);
  t.like(a.stages[0], { outcome: 'queued' });
  // the policy let it through meanwhile: its place is now the identity's last (fraud-service.ts)
  await rememberPlace(s.redis, accountId, placeOf(away)!);
  const verdicts: string[][] = [];
  await queue.processPending(
    (x) => new CorrelationStage(s.redis).evaluate(x),
    async (_x, verdict) => {
      verdicts.push(verdict.factors);
    },
  );
  t.true(verdicts[0]?.includes('correlation:impossible_travel'), JSON.stringify(verdicts));
});

test('correlation: nor does a second login from the same far place, allowed before the late verdict, hide it', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const queue = new ReprocessQueue(s.pool);
  const accountId = `traveller-twice-${process.pid}`;
  const paris = { prefix: '203.0.113.0/24', asn: null, country: 'FR', lat: 48.8566, lon: 2.3522 };
  const tokyo = { prefix: '198.51.100.0/24', asn: null, country: 'JP', lat: 35.6895, lon: 139.692 };
  await rememberPlace(
    s.redis,
    accountId,
    placeOf(signals({ accountId, network: paris, at: Date.now() - 30 * 60_000 }))!,
  );
  const first = signals({ accountId, network: tokyo, loginId: `first-${process.pid}` });
  await new RiskPipeline([new LateCorrelationStage(s.redis, { queue, budgetMs: 3_000 })]).assess(first);
  await rememberPlace(s.redis, accountId, placeOf(first)!);
  await rememberPlace(s.redis, accountId, placeOf(first)!); // the same login remembered twice moves nothing
  // the attacker's second login, from the same place, let through before the late verdict ran
  await rememberPlace(
    s.redis,
    accountId,
    placeOf(signals({ accountId, network: tokyo, loginId: `second-${process.pid}` }))!,
  );
  const verdicts: string[][] = [];
  await queue.processPending(
    (x) => new CorrelationStage(s.redis).evaluate(x),
    async (_x, verdict) => {
      verdicts.push(verdict.factors);
    },
  );
  t.true(verdicts[0]?.includes('correlation:impossible_travel'), JSON.stringify(verdicts));
});

test('a stage whose degraded mode fails too is recorded as error, and the others still run', async (t) => {
  const failing = {
    name: 'x',
    budgetMs: 50,
    run: async () => Promise.reject(new Error('boom')),
    degrade: async () => Promise.reject(new Error('boom')),
  };
  const a = await new RiskPipeline([failing, new TransactionRiskStage()], UNHURRIED).assess(signals());
  t.like(a.stages[0], { name: 'x', outcome: 'error', degraded: true });
  t.like(a.stages[1], { name: 'transaction', degraded: false });
  t.deepEqual(a.factors.slice(0, 2), ['x:error', 'x:fallback_error']);
  t.true(a.stages.every((st) => typeof st.ms === 'number'));
});
