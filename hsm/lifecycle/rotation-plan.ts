/**
 * The scheduled rotation policy, per purpose and algorithm, and the plan it yields at a given time.
 * Pure: the gateway's scheduler (`gateway/keys/rotation-scheduler.ts`) applies the plan; the CLI prints it.
 *
 * For each rule `{ purpose, alg, rotateEveryMs }`, with `lead` = the store's lead time:
 * - no `next` key and `now ≥ activatedAt + rotateEvery − lead` → generate a next key (published at once);
 * - a `next` key published for ≥ lead and `now ≥ activatedAt + rotateEvery` → activate it (the old one
 *   is retired, published until now + retention);
 * - any retired key past `notAfter` → destroy it.
 * A purpose/alg without an active key is not bootstrapped here (that is the ceremony's `init`).
 */
import type { AlgorithmName } from '../algorithms.ts';
import type { KeyPurpose } from '../signer.ts';
import type { KeyRecord } from './key-record.ts';

export interface RotationRule {
  readonly purpose: KeyPurpose;
  readonly alg: AlgorithmName;
  readonly rotateEveryMs: number;
}

const DAY = 86_400_000;

/** 90 days for token signing, a year for SAML and audit keys. */
export const DEFAULT_ROTATION_POLICY: readonly RotationRule[] = Object.freeze([
  { purpose: 'id_token', alg: 'RS256', rotateEveryMs: 90 * DAY },
  { purpose: 'id_token', alg: 'ES256', rotateEveryMs: 90 * DAY },
  { purpose: 'id_token', alg: 'EdDSA', rotateEveryMs: 90 * DAY },
  { purpose: 'id_token', alg: 'PS256', rotateEveryMs: 90 * DAY },
  { purpose: 'access_token', alg: 'RS256', rotateEveryMs: 90 * DAY },
  { purpose: 'access_token', alg: 'ES256', rotateEveryMs: 90 * DAY },
  { purpose: 'access_token', alg: 'EdDSA', rotateEveryMs: 90 * DAY },
  { purpose: 'access_token', alg: 'PS256', rotateEveryMs: 90 * DAY },
  { purpose: 'access_token', alg: 'ES384', rotateEveryMs: 90 * DAY },
  { purpose: 'saml', alg: 'RS256', rotateEveryMs: 365 * DAY },
  { purpose: 'saml', alg: 'ES256', rotateEveryMs: 365 * DAY },
  { purpose: 'saml', alg: 'PS256', rotateEveryMs: 365 * DAY },
  { purpose: 'audit', alg: 'ES384', rotateEveryMs: 365 * DAY },
  { purpose: 'client_auth', alg: 'ES256', rotateEveryMs: 90 * DAY },
  { purpose: 'risk_assessment', alg: 'ES256', rotateEveryMs: 90 * DAY },
]);

export type PlannedAction =
  | { readonly action: 'generate'; readonly purpose: KeyPurpose; readonly alg: AlgorithmName; readonly at: Date }
  | { readonly action: 'activate'; readonly kid: string; readonly at: Date }
  | { readonly action: 'destroy'; readonly kid: string; readonly at: Date };

/**
 * Every action of the policy with its due time (past = due now), sorted by time.
 *
 * @example
 * ```ts
 * const due = planRotation(keys.records(), DEFAULT_ROTATION_POLICY, keys.times.leadTimeMs, new Date()).filter((a) => a.at <= now);
 * ```
 */
export function planRotation(
  records: readonly KeyRecord[],
  policy: readonly RotationRule[],
  leadTimeMs: number,
  now: Date,
): PlannedAction[] {
  const plan: PlannedAction[] = [];
  for (const rule of policy) {
    const mine = records.filter((r) => r.purpose === rule.purpose && r.alg === rule.alg);
    const active = mine
      .filter((r) => r.state === 'active')
      .sort((a, b) => (b.activatedAt?.getTime() ?? 0) - (a.activatedAt?.getTime() ?? 0))[0];
    if (!active?.activatedAt) continue;
    const due = active.activatedAt.getTime() + rule.rotateEveryMs;
    const next = mine.find((r) => r.state === 'next');
    if (!next) {
      plan.push({
        action: 'generate',
        purpose: rule.purpose,
        alg: rule.alg,
        at: new Date(Math.max(now.getTime(), due - leadTimeMs)),
      });
      continue;
    }
    const ready = Math.max(due, (next.publishedAt?.getTime() ?? now.getTime()) + leadTimeMs);
    plan.push({ action: 'activate', kid: next.kid, at: new Date(Math.max(now.getTime(), ready)) });
  }
  for (const r of records) {
    if (r.state === 'retired' && r.notAfter)
      plan.push({ action: 'destroy', kid: r.kid, at: new Date(Math.max(now.getTime(), r.notAfter.getTime())) });
  }
  return plan.sort((a, b) => a.at.getTime() - b.at.getTime());
}
