/**
 * `node test/harness/with-stack.ts -- node test/bench/risk/pdp-and-pipeline.bench.ts [n] [concurrency]`
 *
 * - PDP: `evaluate()` on varied inputs, in process, per-decision latency (200,000 decisions);
 * - PDP through the decision cache (Redis GET + evaluate + SET), per decision;
 * - the whole pipeline (4 stages, real Redis and PostgreSQL, history of 500 people learnt first),
 *   `n` assessments at `concurrency` in flight; per-assessment latency, and how many degraded.
 */
import { availableParallelism } from 'node:os';
import { evaluate } from '../../../gateway/policy/decide.ts';
import { DecisionCache } from '../../../gateway/policy/decision-cache.ts';
import { DEFAULT_POLICY } from '../../../gateway/policy/policy-set.ts';
import { deviceFeatures } from '../../../gateway/risk/device-stage.ts';
import { FraudService } from '../../../gateway/translation/fraud-service.ts';
import type { RiskSignals } from '../../../gateway/risk/types.ts';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { summarize } from '../stats.ts';
import pino from 'pino';

const n = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 16);
const fmt = (s: ReturnType<typeof summarize>, unit = 'ms', k = 1) =>
  `p50 ${(s.p50 * k).toFixed(3)} ${unit}  p95 ${(s.p95 * k).toFixed(3)} ${unit}  p99 ${(s.p99 * k).toFixed(3)} ${unit}  max ${(s.max * k).toFixed(3)} ${unit}`;

// PDP in process
const inputs = Array.from({ length: 1000 }, (_, i) => ({
  requiredAcr: 'eidas2' as const,
  assertedAcr: (i % 3 ? 'eidas2' : 'eidas3') as 'eidas2' | 'eidas3',
  idpMaxAcr: 'eidas3' as const,
  stepUps: i % 2,
  satisfiedLevel: i % 4 === 0 ? 1 : 0,
  assessment: { score: (i % 100) / 100, factors: ['device:unfamiliar', 'transaction:tier2'], stages: [], tier: i % 5 },
}));
const pdp: number[] = [];
for (let i = 0; i < 200_000; i += 1) {
  const started = performance.now();
  evaluate(inputs[i % inputs.length]!, DEFAULT_POLICY);
  pdp.push(performance.now() - started);
}

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const pool = createPool(await freshDatabase(), { max: 20 });
await migrate(pool);
const cache = new DecisionCache(redis);
const cached: number[] = [];
for (let i = 0; i < 5_000; i += 1) {
  const input = inputs[i % inputs.length]!;
  const started = performance.now();
  const key = DecisionCache.keyOf({ account: `a${i % 200}`, ...input });
  const version = await cache.version(`a${i % 200}`);
  if (!(await cache.get(`a${i % 200}`, key)))
    await cache.set(`a${i % 200}`, key, version, evaluate(input, DEFAULT_POLICY));
  cached.push(performance.now() - started);
}

const fraud = new FraudService({
  redis,
  pool,
  audit: new AuditLog(pool),
  logger: pino({ level: 'silent' }),
  hashKey: 'bench',
  interactionTtl: 600,
});
const signal = (i: number, who: number): RiskSignals => ({
  loginId: `bench-${i}`,
  clientId: 'rp',
  idp: 'idp',
  accountId: `acct-${who}`,
  ip: `10.${who % 250}.${(who * 7) % 250}.${i % 3}`,
  userAgent: `Mozilla/5.0 bench ${who % 40}`,
  acr: 'eidas2',
  at: Date.now(),
  deviceId: `dev-${who}`,
  fingerprint: {
    uaFamily: `Firefox ${120 + (who % 8)}`,
    os: 'Linux',
    deviceType: 'desktop',
    languages: 'fr-fr,fr',
    timeZone: 'Europe/Paris',
    screen: '1920x1080',
    platform: 'Linux x86_64',
  },
  network: { prefix: `10.${who % 250}.0.0/24`, asn: String(who % 30), country: 'FR', lat: 48.8, lon: 2.3 },
  transaction: i % 4 ? null : { type: 'payment_initiation', amountEur: (i % 7) * 300 },
});
for (let who = 0; who < 500; who += 1)
  for (let k = 0; k < 3; k += 1) await fraud.rba.learn(`acct:acct-${who}`, deviceFeatures(signal(k, who), 'bench'));

const whole: number[] = [];
let degraded = 0;
let next = 0;
const startedAll = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const s = signal(i, i % 500);
      const started = performance.now();
      const assessment = await fraud.pipeline.assess(s);
      await fraud.decide(
        { clientId: s.clientId, idp: s.idp, accountId: s.accountId },
        { requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas3', stepUps: 0, assessment },
      );
      whole.push(performance.now() - started);
      if (assessment.stages.some((st) => st.degraded && st.outcome !== 'no_signal')) degraded += 1;
    }
  }),
);
const seconds = (performance.now() - startedAll) / 1000;

console.log(`node ${process.version}, ${availableParallelism()} CPUs`);
console.log(`PDP evaluate (in process, 200000)       ${fmt(summarize(pdp), 'µs', 1000)}`);
console.log(`PDP via decision cache (Redis, 5000)    ${fmt(summarize(cached))}`);
console.log(
  `pipeline + PDP (${n}, ${concurrency} in flight)  ${fmt(summarize(whole))}  ${(n / seconds).toFixed(0)}/s  degraded (late/error) ${degraded}`,
);
await redis.quit();
await pool.end();
