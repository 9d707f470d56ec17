/**
 * `node test/harness/with-stack.ts -- node test/risk/eval/first-logins.ts [--people N] [--seed S]` — what
 * the DEFAULT policy does to LEGITIMATE FIRST LOGINS (issue #13 item 10), on SIMULATED people run through
 * the real risk stages (behaviour, device trust, transaction, correlation: real Redis and PostgreSQL) and
 * the real policy (`evaluate` with DEFAULT_POLICY, an IdP that can reach eidas2 only, as most can).
 *
 * The simulated population (assumptions, not measurements):
 * - user agents: 85 % an ordinary browser whose behavioural script ran normally, 10 % a browser whose
 *   script did not run (blocked, JavaScript off), 5 % a scripted or headless client (RP test benches,
 *   assistive automation);
 * - networks: 40 % behind a mobile carrier's CGNAT (one of 20 prefixes, shared by everyone on it), 60 % a
 *   home line of their own;
 * - retries: 5 % of people try again from fresh browsers (private windows, a relative's phone) and their
 *   fifth fresh device within 24 h is scored.
 * Prints a Markdown table for RISK-EVAL.md.
 */
import { BehaviourStore } from '../../../gateway/behaviour/store.ts';
import { evaluate } from '../../../gateway/policy/decide.ts';
import { DEFAULT_POLICY } from '../../../gateway/policy/policy-set.ts';
import { BehaviourStage } from '../../../gateway/risk/behaviour-stage.ts';
import { CorrelationStage } from '../../../gateway/risk/correlation-stage.ts';
import { DeviceTrustStage } from '../../../gateway/risk/device-stage.ts';
import { IpReputation } from '../../../gateway/risk/ip-reputation.ts';
import { RiskPipeline } from '../../../gateway/risk/pipeline.ts';
import { RbaStore } from '../../../gateway/risk/rba-store.ts';
import { TransactionRiskStage } from '../../../gateway/risk/transaction-stage.ts';
import { signals, stores } from '../fixtures.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const PEOPLE = arg('people', 2000);
let seed = arg('seed', 1) >>> 0;
/** mulberry32: deterministic, same seed → same figures. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let x = seed;
  x = Math.imul(x ^ (x >>> 15), x | 1);
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}

const s = await stores();
const behaviour = new BehaviourStore(s.redis, s.pool, 600);
const budgets = { behaviour: 10_000, device: 10_000, transaction: 10_000, correlation: 10_000 };
const pipeline = new RiskPipeline(
  [
    new BehaviourStage(behaviour),
    new DeviceTrustStage({ store: new RbaStore(s.redis, s.pool), hashKey: 'k', ipReputation: new IpReputation() }),
    new TransactionRiskStage(),
    new CorrelationStage(s.redis),
  ],
  { budgets },
);
const run = `${process.pid}-${Date.now()}`;
const BROWSER =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36';
const counts = { allow: 0, step_up: 0, flag: 0, deny: 0 } as Record<string, number>;
const byKind: Record<string, { n: number; challenged: number }> = {};

for (let p = 0; p < PEOPLE; p += 1) {
  const u = random();
  const kind = u < 0.85 ? 'browser' : u < 0.95 ? 'browser, no script' : 'scripted/headless';
  const shared = random() < 0.4;
  const retries = random() < 0.05 ? 4 : 0;
  const network = shared
    ? { prefix: `100.64.${Math.floor(random() * 20)}.0/24`, asn: '51207', country: 'FR', lat: 48.85, lon: 2.35 }
    : { prefix: `10.${p >> 8}.${p & 255}.0/24`, asn: '3215', country: 'FR', lat: 48.85, lon: 2.35 };
  const accountId = `person-${run}-${p}`;
  let assessment;
  for (let d = 0; d <= retries; d += 1) {
    const login = signals({
      accountId,
      deviceId: `device-${run}-${p}-${d}`,
      network,
      userAgent: kind === 'scripted/headless' ? HEADLESS : BROWSER,
      fingerprint: {
        uaFamily: 'Chrome 126',
        os: 'Windows',
        deviceType: kind === 'scripted/headless' ? 'bot' : 'desktop',
        languages: 'fr-fr,fr',
        timeZone: 'Europe/Paris',
        screen: '1920x1080',
        platform: 'Win32',
      },
    });
    if (kind === 'browser') {
      await behaviour.save(login.loginId, {
        pointer: {
          n: 40 + Math.floor(random() * 80),
          path: 600 + random() * 900,
          straightness: 0.5 + random() * 0.4,
          speed: 0.4 + random() * 0.6,
          speedSd: 0.2 + random() * 0.3,
          pauses: Math.floor(random() * 4),
        },
        keys: { n: 0, interval: 0, intervalSd: 0, hold: 0 },
        orientation: { n: 0, betaSd: 0, gammaSd: 0 },
        dwell: 1500 + random() * 8000,
        timerMs: 0.1,
        timeZone: 'Europe/Paris',
        screen: '1920x1080',
        platform: 'Win32',
      });
    }
    assessment = await pipeline.assess(login);
  }
  const decision = evaluate(
    { requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas2', stepUps: 0, assessment: assessment! },
    DEFAULT_POLICY,
  );
  counts[decision.kind] = (counts[decision.kind] ?? 0) + 1;
  const key = `${kind}${retries ? ', 5th fresh device in 24 h' : ''}${shared ? ', shared network' : ''}`;
  byKind[key] ??= { n: 0, challenged: 0 };
  byKind[key].n += 1;
  if (decision.kind !== 'allow') byKind[key].challenged += 1;
}
await s.close();

const pct = (n: number) => `${((100 * n) / PEOPLE).toFixed(1)} %`;
console.log(
  `people: ${PEOPLE}, seed ${arg('seed', 1)} (simulated legitimate first logins; real stages and DEFAULT_POLICY)\n`,
);
console.log('| decision | share of legitimate first logins |\n|---|---|');
for (const k of ['allow', 'step_up', 'flag', 'deny']) console.log(`| ${k} | ${pct(counts[k] ?? 0)} |`);
console.log('\n| population | people | stepped up, flagged or denied |\n|---|---|---|');
for (const [k, v] of Object.entries(byKind).sort())
  console.log(`| ${k} | ${v.n} | ${((100 * v.challenged) / v.n).toFixed(1)} % |`);
