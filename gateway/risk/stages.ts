/**
 * The risk pipeline, as one table (order = execution order):
 *
 * | # | stage        | budget | file                   | when late or failing                            |
 * |---|--------------|--------|------------------------|-------------------------------------------------|
 * | 1 | behaviour    |  50 ms | behaviour-stage.ts     | device fingerprint                              |
 * | 2 | device       | 100 ms | device-stage.ts        | IP reputation only                              |
 * | 3 | transaction  | 200 ms | transaction-stage.ts   | accept, warning recorded and passed to the RP   |
 * | 4 | correlation  | 300 ms | correlation-stage.ts   | queued for asynchronous reprocessing (persisted)|
 */
import type { Redis } from 'ioredis';
import type { BehaviourStore } from '../behaviour/store.ts';
import { BehaviourStage } from './behaviour-stage.ts';
import { CorrelationStage, type CorrelationThresholds } from './correlation-stage.ts';
import { DeviceTrustStage } from './device-stage.ts';
import type { IpReputation } from './ip-reputation.ts';
import type { RiskStage } from './pipeline.ts';
import type { RbaStore } from './rba-store.ts';
import type { ReprocessQueue } from './reprocess.ts';
import { TransactionRiskStage } from './transaction-stage.ts';

export const STAGE_BUDGETS = { behaviour: 50, device: 100, transaction: 200, correlation: 300 } as const;

export interface StageDeps {
  redis: Redis;
  behaviour: BehaviourStore;
  rba: RbaStore;
  ipReputation: IpReputation;
  reprocess: ReprocessQueue;
  hashKey: string;
  correlation?: Partial<CorrelationThresholds>;
}

/** The four stages, in order. */
export function buildStages(deps: StageDeps): { stages: RiskStage[]; correlation: CorrelationStage } {
  const correlation = new CorrelationStage(deps.redis, {
    queue: deps.reprocess,
    budgetMs: STAGE_BUDGETS.correlation,
    ...(deps.correlation ? { thresholds: deps.correlation } : {}),
  });
  return {
    stages: [
      new BehaviourStage(deps.behaviour, STAGE_BUDGETS.behaviour),
      new DeviceTrustStage({
        store: deps.rba,
        hashKey: deps.hashKey,
        ipReputation: deps.ipReputation,
        budgetMs: STAGE_BUDGETS.device,
      }),
      new TransactionRiskStage(STAGE_BUDGETS.transaction),
      correlation,
    ],
    correlation,
  };
}
