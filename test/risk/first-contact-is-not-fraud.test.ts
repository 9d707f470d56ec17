/**
 * Issue #13 item 10, under the default policy (DEFAULT_POLICY) and the real stages (real Redis and
 * PostgreSQL): a legitimate first login is allowed at the RP's level or stepped up, never sent to manual
 * review; the fifth new device of a person within 24 h does not by itself force a step-up; a strong signal
 * (one device trying many identities) still goes to review.
 */
import test from 'ava';
import { BehaviourStore } from '../../gateway/behaviour/store.ts';
import { evaluate } from '../../gateway/policy/decide.ts';
import { DEFAULT_POLICY } from '../../gateway/policy/policy-set.ts';
import { BehaviourStage } from '../../gateway/risk/behaviour-stage.ts';
import { CorrelationStage } from '../../gateway/risk/correlation-stage.ts';
import { DeviceTrustStage } from '../../gateway/risk/device-stage.ts';
import { IpReputation } from '../../gateway/risk/ip-reputation.ts';
import { RiskPipeline } from '../../gateway/risk/pipeline.ts';
import { RbaStore } from '../../gateway/risk/rba-store.ts';
import { TransactionRiskStage } from '../../gateway/risk/transaction-stage.ts';
import type { RiskAssessment } from '../../gateway/risk/types.ts';
import { signals, stores } from './fixtures.ts';

const UNHURRIED = { budgets: { behaviour: 10_000, device: 10_000, transaction: 10_000, correlation: 10_000 } };

async function pipelineFor(s: Awaited<ReturnType<typeof stores>>): Promise<RiskPipeline> {
  return new RiskPipeline(
    [
      new BehaviourStage(new BehaviourStore(s.redis, s.pool, 60)),
      new DeviceTrustStage({ store: new RbaStore(s.redis, s.pool), hashKey: 'k', ipReputation: new IpReputation() }),
      new TransactionRiskStage(),
      new CorrelationStage(s.redis),
    ],
    UNHURRIED,
  );
}

const decide = (assessment: RiskAssessment) =>
  evaluate(
    { requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas2', stepUps: 0, assessment },
    DEFAULT_POLICY,
  );

const tag = `${process.pid}-${Date.now()}`;
// a mobile carrier's CGNAT prefix, shared by many people
const carrier = { prefix: `100.64.${process.pid % 250}.0/24`, asn: '51207', country: 'FR', lat: 48.85, lon: 2.35 };

test.serial(
  'a scripted first login, no behavioural signal, on a shared network: allowed or stepped up, not reviewed',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const pipeline = await pipelineFor(s);
    for (let i = 0; i < 25; i += 1)
      await pipeline.assess(
        signals({ accountId: `neighbour-${tag}-${i}`, deviceId: `phone-${tag}-${i}`, network: carrier }),
      );
    for (const userAgent of [
      'node',
      'python-requests/2.31',
      'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36',
    ]) {
      const first = await pipeline.assess(
        signals({
          accountId: `newcomer-${tag}-${userAgent}`,
          deviceId: `new-${tag}-${userAgent}`,
          userAgent,
          network: carrier,
          fingerprint: { ...signals().fingerprint!, deviceType: /headless/i.test(userAgent) ? 'bot' : 'unknown' },
        }),
      );
      const decision = decide(first);
      t.true(
        decision.kind === 'allow' || (decision.kind === 'step_up' && decision.level === 1),
        `${userAgent}: ${decision.kind} ${first.score.toFixed(2)} ${first.factors.join(',')}`,
      );
    }
    // a person trying again from fresh headless browsers (a test bench, a kiosk): the fifth, on the shared network
    const headless = {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36',
      network: carrier,
      fingerprint: { ...signals().fingerprint!, deviceType: 'bot' },
    };
    let fifth: RiskAssessment | undefined;
    for (let i = 0; i < 5; i += 1)
      fifth = await pipeline.assess(signals({ ...headless, accountId: `bench-${tag}`, deviceId: `fresh-${tag}-${i}` }));
    const decision = decide(fifth!);
    t.true(
      decision.kind === 'allow' || (decision.kind === 'step_up' && decision.level === 1),
      `fifth fresh headless browser: ${decision.kind} ${decision.reasons.join(',')} ${fifth!.score.toFixed(2)}`,
    );
  },
);

test.serial(
  'the fifth new device of a person within 24 h, in a real browser, is allowed without a step-up',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const pipeline = await pipelineFor(s);
    const person = `family-${tag}`;
    let fifth: RiskAssessment | undefined;
    for (let i = 0; i < 5; i += 1)
      fifth = await pipeline.assess(signals({ accountId: person, deviceId: `device-${tag}-${i}` }));
    t.true(fifth!.factors.includes('correlation:devices_per_identity'), 'the correlation is still seen and reported');
    t.is(decide(fifth!).kind, 'allow', `score ${fifth!.score.toFixed(2)}`);
  },
);

test.serial('a strong signal still goes to manual review: one device trying many identities', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const pipeline = await pipelineFor(s);
  let last: RiskAssessment | undefined;
  for (let i = 0; i < 8; i += 1)
    last = await pipeline.assess(signals({ accountId: `victim-${tag}-${i}`, deviceId: `stuffer-${tag}` }));
  t.true(last!.factors.includes('correlation:identities_per_device'));
  t.is(decide(last!).kind, 'flag', `score ${last!.score.toFixed(2)}`);
});
