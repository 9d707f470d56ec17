/**
 * Stage 3 — transaction risk (budget 200 ms): what is at stake (tier) and whether the context is new for
 * this person (new device, new location, from the history device trust read).
 *
 * - score: base per tier, raised by a new device and a new location, more so when more is at stake;
 * - the tier itself goes to the policy (a tier may demand a minimum level whatever the score);
 * - degraded mode (late or failing): accept — score 0 — with the warning `TRANSACTION_RISK_UNAVAILABLE`,
 *   recorded in the assessment and passed to the RP.
 */
import type { DeviceHistory } from './device-stage.ts';
import type { RiskStage, StageContext, StageOutput } from './pipeline.ts';
import { tierOf } from './transaction.ts';
import type { RiskSignals } from './types.ts';

/** Base score per tier 0..4, and the add-ons for novelty per tier. */
export const TIER_BASE = [0, 0.02, 0.1, 0.25, 0.4] as const;
export const NEW_DEVICE_ADD = [0.05, 0.05, 0.15, 0.25, 0.35] as const;
export const NEW_LOCATION_ADD = [0.05, 0.05, 0.15, 0.25, 0.35] as const;

export class TransactionRiskStage implements RiskStage {
  readonly name = 'transaction';
  readonly budgetMs: number;

  constructor(budgetMs = 200) {
    this.budgetMs = budgetMs;
  }

  async run(signals: RiskSignals, context: StageContext): Promise<StageOutput> {
    const tier = tierOf(signals.transaction);
    context.set('tier', tier);
    const history = context.get('history') as DeviceHistory | undefined;
    const factors = [`transaction:tier${tier}`];
    let keep = 1 - TIER_BASE[tier]!;
    if (!history) {
      factors.push('transaction:history_unknown');
    } else if (history.total > 0) {
      if (!history.knownDevice) {
        factors.push('transaction:new_device');
        keep *= 1 - NEW_DEVICE_ADD[tier]!;
      }
      if (!history.knownNetwork && !history.knownCountry) {
        factors.push('transaction:new_location');
        keep *= 1 - NEW_LOCATION_ADD[tier]!;
      }
    }
    return { score: 1 - keep, factors };
  }

  async degrade(signals: RiskSignals, context: StageContext): Promise<StageOutput> {
    context.set('tier', tierOf(signals.transaction));
    return { score: 0, factors: [], warnings: ['TRANSACTION_RISK_UNAVAILABLE'], fallback: 'accept_with_warning' };
  }
}
