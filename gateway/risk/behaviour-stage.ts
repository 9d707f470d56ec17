/**
 * Stage 1 — behavioural signals (budget 50 ms): the vector the page's script sent over the side channel.
 *
 * - obvious automation: no pointer motion at all before a choice, perfectly straight pointer paths,
 *   metronomic typing (interval sd < 5 ms over ≥ 5 keys), a choice within 300 ms of the page loading;
 *   each is a weak signal (≤ 0.3) — a real browser driven by assistive technology can look like this;
 * - with ≥ 5 earlier vectors for the person: Manhattan distance scaled by each feature's mean absolute
 *   deviation (Killourhy & Maxion's best keystroke detector), mapped to ≤ 0.5;
 * - no vector (no JavaScript, a page without the script — or the password typed at the IdP, which the
 *   gateway never sees), late or failing: falls back to the device fingerprint (`device_fingerprint`):
 *   a headless or bot user agent, or a fingerprint that contradicts the User-Agent header.
 */
import { numericFeatures } from '../behaviour/features.ts';
import type { BehaviourStore } from '../behaviour/store.ts';
import type { RiskStage, StageOutput } from './pipeline.ts';
import type { RiskSignals } from './types.ts';

export class BehaviourStage implements RiskStage {
  readonly name = 'behaviour';
  readonly budgetMs: number;
  readonly #store: BehaviourStore;

  constructor(store: BehaviourStore, budgetMs = 50) {
    this.#store = store;
    this.budgetMs = budgetMs;
  }

  async run(signals: RiskSignals): Promise<StageOutput> {
    const vector = await this.#store.load(signals.loginId);
    if (!vector) return { ...(await this.degrade(signals)), outcome: 'no_signal', degraded: true };
    const factors: string[] = [];
    let keep = 1;
    const add = (s: number, f: string) => {
      factors.push(f);
      keep *= 1 - s;
    };
    if (vector.pointer.n === 0 && vector.keys.n === 0 && vector.orientation.n === 0)
      add(0.15, 'behaviour:no_interaction');
    if (vector.pointer.n >= 10 && vector.pointer.straightness > 0.995) add(0.2, 'behaviour:straight_pointer');
    if (vector.keys.n >= 5 && vector.keys.intervalSd < 5) add(0.3, 'behaviour:metronomic_typing');
    if (vector.dwell < 300) add(0.2, 'behaviour:instant_choice');
    const profile = await this.#store.profile(signals.accountId);
    if (profile && profile.n >= 5) {
      const x = numericFeatures(vector);
      let d = 0;
      for (const [k, v] of Object.entries(x))
        d += Math.abs(v - (profile.mean[k] ?? v)) / Math.max(profile.mad[k] ?? 0, 1e-3);
      d /= Object.keys(x).length;
      const s = (0.5 * d) / (d + 3);
      if (s > 0.25) add(s, 'behaviour:unlike_profile');
    }
    return { score: 1 - keep, factors };
  }

  async degrade(signals: RiskSignals): Promise<StageOutput> {
    const fp = signals.fingerprint;
    const factors: string[] = [];
    let score = 0;
    if (fp?.deviceType === 'bot' || /headless/i.test(signals.userAgent)) {
      score = 0.3;
      factors.push('behaviour:automation_user_agent');
    }
    return { score, factors, fallback: 'device_fingerprint' };
  }
}
