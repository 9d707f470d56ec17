/**
 * The fraud service: everything the translation point, the completion, the review pages and the admin
 * API use, built once at boot. It joins the pipeline (stages.ts), the policy data and decision cache,
 * the stores, the step-up ledger, the review queue, the asynchronous reprocessing (a late verdict can
 * revoke a session), the record of each assessment and the metrics.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import type { BehaviourVector } from '../behaviour/features.ts';
import { BehaviourStore } from '../behaviour/store.ts';
import { DecisionCache, type ComputedDecision } from '../policy/decision-cache.ts';
import { evaluate, type Decision, type PolicyInput } from '../policy/decide.ts';
import { DEFAULT_POLICY, ruleFor, type PolicySet } from '../policy/policy-set.ts';
import { ReviewStore } from '../review/review-store.ts';
import { memoised, remember } from '../session/request-memo.ts';
import { placeOf, rememberPlace } from '../risk/correlation-stage.ts';
import { deviceFeatures } from '../risk/device-stage.ts';
import { IpReputation } from '../risk/ip-reputation.ts';
import { RiskMetrics } from '../risk/metrics.ts';
import { Registry } from 'prom-client';
import type { RiskOverloadConfig } from '../config/risk-overload.ts';
import { PipelineOverload } from '../risk/overload.ts';
import { CounterBatch } from '../store/counter-batch.ts';
import { prepared } from '../store/prepared.ts';
import type { LaggingReads } from '../store/replica-router.ts';
import { prefixResolver, type NetworkResolver } from '../risk/network.ts';
import { RiskPipeline, type StageOutput } from '../risk/pipeline.ts';
import { RbaStore } from '../risk/rba-store.ts';
import { ReprocessQueue } from '../risk/reprocess.ts';
import { stageFailureReporter } from '../risk/stage-failures.ts';
import { buildStages } from '../risk/stages.ts';
import type { RiskAssessment, RiskSignals } from '../risk/types.ts';

export interface FraudServiceOptions {
  redis: Redis;
  pool: Pool;
  /** The pool for reads that may lag (the review queue listing): the replica while it keeps up. */
  laggingReads?: LaggingReads;
  audit: AuditLog;
  logger: Logger;
  /** Key of the feature-value hashes (derived from a gateway secret). */
  hashKey: string;
  interactionTtl: number;
  policies?: PolicySet;
  resolver?: NetworkResolver;
  budgets?: Partial<Record<string, number>>;
  /** The gateway's metrics registry (the pipeline's counters and histograms join it); a private one when absent. */
  metricsRegistry?: Registry;
  /** Rule-only mode while the pipeline is slow (risk/overload.ts); off when absent. */
  overload?: RiskOverloadConfig;
}

/** The late-verdict score from which a session is revoked. */
export const LATE_VERDICT_REVOKE_ABOVE = 0.5;

/** Revokes what a login let through (set at boot, once oidc-provider exists). */
/**
 * What a late verdict did: revoked the session the login made, ended its grant (no session holds it any more), or
 * refused the login before it had a grant (its completion is refused: risk/grant-links.ts).
 */
export type LateVerdictOutcome = 'session-revoked' | 'grant-ended' | 'refused-before-its-grant';
export type Revoker = (loginId: string, accountId: string) => Promise<LateVerdictOutcome>;

/** A login's assessment and signals, as `record` writes them (risk_assessments, risk_signals). */
interface AssessmentRecord {
  loginId: string;
  clientId: string;
  accountId: string;
  score: number;
  decision: string;
  assessment: string;
  features: string;
}

// The statements of every login are named (store/prepared.ts): parsed and planned once per connection.
// One statement for a login's record and its day's aggregates (one round trip, one transaction, one WAL flush;
// it was two): the assessments and signals of the logins in the batch ($1-$7, one row each, the last of a
// login kept), then the aggregates summed per row in key order ($8-$11, store/counter-batch.ts). All or none.
export const RECORD_ASSESSMENTS = prepared(
  'risk_record_assessments',
  `with records as (
     select * from unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[])
       as u(login_id, client_id, account_id, score, decision, assessment, features)
   ), signals as (
     insert into risk_signals (login_id, account_id, features) select login_id, account_id, features::jsonb from records
     on conflict (login_id) do update set features = excluded.features
   ), assessments as (
     insert into risk_assessments (login_id, client_id, account_id, score, decision, assessment)
     select login_id, client_id, account_id, score, decision, assessment::jsonb from records
     on conflict (login_id) do update set score = excluded.score, decision = excluded.decision, assessment = excluded.assessment, at = now()
   )
   insert into risk_aggregates (day, metric, key, count) select d::date, m, k, c from unnest($8::text[], $9::text[], $10::text[], $11::bigint[]) as u(d, m, k, c)
   on conflict (day, metric, key) do update set count = risk_aggregates.count + excluded.count`,
);

/** The statement's parameters: the records (a login named twice: its last record) as columns, then the counts. */
function recordParameters(columns: string[][], counts: number[], records: AssessmentRecord[]): unknown[] {
  const last = [...new Map(records.map((r) => [r.loginId, r])).values()];
  return [
    last.map((r) => r.loginId),
    last.map((r) => r.clientId),
    last.map((r) => r.accountId),
    last.map((r) => r.score),
    last.map((r) => r.decision),
    last.map((r) => r.assessment),
    last.map((r) => r.features),
    ...columns,
    counts,
  ];
}
export class FraudService {
  readonly pipeline: RiskPipeline;
  readonly policies: PolicySet;
  readonly cache: DecisionCache;
  readonly behaviour: BehaviourStore;
  readonly rba: RbaStore;
  readonly ipReputation = new IpReputation();
  readonly reprocess: ReprocessQueue;
  readonly reviews: ReviewStore;
  readonly metrics: RiskMetrics;
  readonly resolver: NetworkResolver;
  /** Rule-only mode of the whole pipeline while it is slow (undefined: not configured). */
  readonly overload: PipelineOverload | undefined;
  readonly #o: FraudServiceOptions;
  readonly #evaluateLate: (signals: RiskSignals) => Promise<StageOutput>;
  /** Assessments and aggregates of concurrent logins, one statement for all (store/counter-batch.ts). */
  readonly #records: CounterBatch<AssessmentRecord>;
  /** A decision computed on a cache miss, by its assessment: cached by `record` with the login's score (one command). */
  readonly #computed = new WeakMap<RiskAssessment, ComputedDecision>();
  revoker: Revoker = async () => {
    throw new Error('no revoker: the fraud service was not started');
  };

  constructor(o: FraudServiceOptions) {
    this.#o = o;
    this.#records = new CounterBatch<AssessmentRecord>(3, async (columns, counts, records) => {
      await o.pool.query(RECORD_ASSESSMENTS.with(recordParameters(columns, counts, records)));
    });
    this.metrics = new RiskMetrics(o.metricsRegistry);
    this.policies = o.policies ?? { default: DEFAULT_POLICY, clients: {}, idps: {} };
    this.cache = new DecisionCache(o.redis);
    this.behaviour = new BehaviourStore(o.redis, o.pool, o.interactionTtl, { memoised, remember });
    this.rba = new RbaStore(o.redis, o.pool, (err) => o.logger.warn({ err }, 'rba write-behind failed'));
    this.reprocess = new ReprocessQueue(o.pool);
    this.reviews = new ReviewStore(o.pool, o.audit, o.laggingReads);
    this.resolver = o.resolver ?? prefixResolver;
    const { stages, correlation } = buildStages({
      redis: o.redis,
      behaviour: this.behaviour,
      rba: this.rba,
      ipReputation: this.ipReputation,
      reprocess: this.reprocess,
      hashKey: o.hashKey,
    });
    this.#evaluateLate = (s) => correlation.evaluate(s);
    this.metrics.budgets(
      Object.fromEntries(stages.map((stage) => [stage.name, o.budgets?.[stage.name] ?? stage.budgetMs])),
    );
    this.overload = o.overload
      ? new PipelineOverload(o.overload, {
          logger: o.logger,
          registry: o.metricsRegistry ?? new Registry(),
          audit: o.audit,
        })
      : undefined;
    this.pipeline = new RiskPipeline(stages, {
      ...(o.budgets ? { budgets: o.budgets } : {}),
      ...(this.overload ? { overload: this.overload } : {}),
      onStage: (result, signals) => {
        this.metrics.inc('risk_stage_total', {
          stage: result.name,
          outcome: result.outcome,
          degraded: result.degraded,
        });
        this.metrics.stageTime(result.name, result.outcome, result.ms);
        // a login without a behaviour vector (no JavaScript, an API client) is the ordinary case, not a
        // degradation to warn about at every login: debug; late, failing, rule-only stay warnings
        if (result.degraded)
          o.logger[result.outcome === 'no_signal' ? 'debug' : 'warn'](
            {
              loginId: signals.loginId,
              stage: result.name,
              outcome: result.outcome,
              fallback: result.fallback,
              ms: result.ms,
            },
            'risk stage degraded',
          );
      },
      onFailure: stageFailureReporter({ audit: o.audit, logger: o.logger, metrics: this.metrics }),
    });
  }

  /**
   * The decision for a login: the policy rule of its RP and IdP, through the decision cache.
   *
   * @example
   * const decision = await fraud.decide({ clientId, idp, accountId }, input);
   */
  async decide(who: { clientId: string; idp: string; accountId: string }, input: PolicyInput): Promise<Decision> {
    const rule = ruleFor(this.policies, who.clientId, who.idp);
    // the rule is part of the key: during a rolling policy change an instance never serves a decision another
    // instance's rule computed for the same person and input
    const key = DecisionCache.keyOf({
      ...who,
      ...input,
      rule,
      assessment: {
        score: input.assessment.score,
        factors: input.assessment.factors,
        tier: input.assessment.tier ?? 0,
      },
    });
    const { decision: cached, version } = await this.cache.lookup(who.accountId, key);
    if (cached) return cached;
    const decision = evaluate(input, rule);
    // cached when the login's assessment is recorded (`record`), in the command that records its score
    this.#computed.set(input.assessment, { accountId: who.accountId, key, version, decision });
    this.metrics.inc('policy_decision_total', { kind: decision.kind, level: String(decision.level ?? 0) });
    return decision;
  }

  /** Records what a step-up of this login must satisfy. */
  async stepUpRequested(loginId: string, accountId: string, level: number): Promise<void> {
    await this.#o.redis.set(`stepup:${loginId}`, JSON.stringify({ accountId, level }), 'EX', this.#o.interactionTtl);
  }

  /** The level a step-up of this login satisfied for this person (0 when none). */
  async satisfiedLevel(loginId: string, accountId: string): Promise<number> {
    const raw = await this.#o.redis.get(`stepup:${loginId}`);
    if (!raw) return 0;
    const pending = JSON.parse(raw) as { accountId: string; level: number };
    return pending.accountId === accountId ? pending.level : 0;
  }

  /** Keeps an assessment: for the signed copy the RP may fetch, for retention, and for learning on success. */
  async record(signals: RiskSignals, assessment: RiskAssessment, decision: Decision): Promise<void> {
    const features = deviceFeatures(signals, this.#o.hashKey);
    const place = placeOf(signals);
    const full = await this.behaviour.load(signals.loginId);
    // minimised: the fingerprint strings are already in `features`, hashed; only the numeric aggregates stay
    const vector = full
      ? {
          pointer: full.pointer,
          keys: full.keys,
          orientation: full.orientation,
          dwell: full.dwell,
          timerMs: full.timerMs,
        }
      : null;
    const computed = this.#computed.get(assessment);
    this.#computed.delete(assessment);
    // what the completion learns from, and the person's new score: independent writes, sent together (one round
    // trip, issue #14: two before); either failing fails the record as before, and nothing is kept in PostgreSQL
    await Promise.all([
      this.#o.redis.set(
        this.rba.heldKey(signals.loginId),
        JSON.stringify({ accountId: signals.accountId, features, vector, prefix: signals.network?.prefix }),
        'EX',
        this.#o.interactionTtl + 960,
      ),
      this.cache.scoreUpdated(signals.accountId, assessment.score, computed),
      // the person's last place moves only with a login the policy let through: an attempt refused, flagged or
      // stepped up never does, so an attacker's first attempt from far away does not make the retry look local
      place && decision.kind === 'allow' ? rememberPlace(this.#o.redis, signals.accountId, place) : undefined,
    ]);
    const day = new Date().toISOString().slice(0, 10);
    const metrics = [
      ...new Set([
        `decision\u0000${decision.kind}`,
        `idp\u0000${signals.idp}`,
        ...assessment.factors.map((f) => `factor\u0000${f}`),
      ]),
    ].map((m) => m.split('\u0000') as [string, string]);
    // the assessment, its signals and the day's aggregates: one statement (with those of concurrent logins),
    // committed before this returns; all or none
    await this.#records.add(
      metrics.map(([metric, key]) => [day, metric, key]),
      {
        loginId: signals.loginId,
        clientId: signals.clientId,
        accountId: signals.accountId,
        score: assessment.score,
        decision: decision.kind,
        assessment: JSON.stringify({ ...assessment, decision, idp: signals.idp }),
        features: JSON.stringify({ features, behaviour: vector }),
      },
    );
  }

  /**
   * After an allowed login: its features become the person's history (attacks never do). The login held by
   * `record` is counted and consumed in one Redis round trip (`RbaStore.learnHeld`; issue #14: a GETDEL, then
   * the count, before); counted once, however often the completion asks.
   *
   * @param accountId the person the login was decided for (the outcome's): names their counts up front
   */
  async learn(loginId: string, accountId: string): Promise<void> {
    const raw = await this.rba.learnHeld(loginId, accountId);
    if (!raw) return;
    const data = JSON.parse(raw) as {
      accountId: string;
      vector: Omit<BehaviourVector, 'timeZone' | 'screen' | 'platform'> | null;
      prefix?: string;
    };
    if (data.vector)
      await this.behaviour.learn(data.accountId, { ...data.vector, timeZone: '', screen: '', platform: '' });
    if (data.prefix) this.ipReputation.record(data.prefix, 'good', data.accountId);
  }

  /** A refused or flagged login counts against its network. */
  async refused(loginId: string): Promise<void> {
    const raw = await this.#o.redis.getdel(this.rba.heldKey(loginId));
    if (!raw) return;
    const data = JSON.parse(raw) as { prefix?: string; accountId?: string };
    if (data.prefix) this.ipReputation.record(data.prefix, 'bad', data.accountId ?? loginId);
  }

  /**
   * Starts the asynchronous stage-4 reprocessing; a late verdict scoring `revokeAbove` or more revokes (the
   * level is the caller's: {@link LATE_VERDICT_REVOKE_ABOVE} at boot). Returns a stop function.
   */
  startReprocessing(intervalMs: number, revokeAbove: number): () => Promise<void> {
    return this.reprocess.start(
      intervalMs,
      this.#evaluateLate,
      async (signals, verdict) => {
        this.metrics.inc('risk_late_verdict_total', { suspicious: verdict.score >= revokeAbove });
        if (verdict.score < revokeAbove) return;
        await this.cache.invalidate(signals.accountId);
        const outcome = await this.revoker(signals.loginId, signals.accountId);
        await this.#o.audit.append({
          sessionId: signals.loginId,
          from: null,
          to: 'LATE_VERDICT_REVOKED',
          component: 'risk',
          errorCode: 'RISK_LATE_VERDICT',
          details: { score: verdict.score, factors: verdict.factors, outcome },
        });
        this.#o.logger.warn(
          { loginId: signals.loginId, score: verdict.score, factors: verdict.factors, outcome },
          `late correlation verdict: ${outcome}`,
        );
      },
      (err) => this.#o.logger.warn({ err }, 'risk reprocessing failed'),
    );
  }
}
