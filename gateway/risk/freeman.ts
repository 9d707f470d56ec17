/**
 * The Freeman et al. (NDSS 2016) statistical risk model, as Wiefling et al. (ACM TOPS 2022) evaluated it,
 * written from the papers' description (no code copied):
 *
 *   risk(x, u) = Π_k [ p(x^k) / p(x^k | u) ] × p(u) / p(u | attack)   with p(u) = n_u / N, p(u | attack) = 1 / |U|
 *
 * - each feature k is a group of hierarchical sub-features with weights (IP → ip, ASN, country;
 *   UA → full string, browser + version, OS, device type): p(x^k) = Σ_j w_kj · p(x^k_j);
 * - probabilities are smoothed so an unseen value is rare but possible: a seen value
 *   p = n/N · (1 − u/(N+u)), an unseen one p = 1/(N+u), u = number of distinct values seen in that population
 *   (plus one slot for "new");
 * - a value the person never used gets p(x | u) = p(x)/4 (Wiefling's edge case for p(x | u) = 0): an
 *   unseen sub-feature always raises the ratio, however rare it is globally;
 * - higher = riskier; a threshold on it is set to reach a target attack-detection rate.
 */

export interface SubFeature {
  name: string;
  weight: number;
}

export interface FeatureGroup {
  name: string;
  subs: readonly SubFeature[];
}

/** The two features (and weights) of Wiefling et al.'s evaluation of Freeman et al. */
export const FREEMAN_GROUPS: readonly FeatureGroup[] = [
  {
    name: 'ip',
    subs: [
      { name: 'ip', weight: 0.6 },
      { name: 'asn', weight: 0.3 },
      { name: 'country', weight: 0.1 },
    ],
  },
  {
    name: 'ua',
    subs: [
      { name: 'ua', weight: 0.5387 },
      { name: 'browser', weight: 0.268 },
      { name: 'os', weight: 0.1882 },
      { name: 'deviceType', weight: 0.0051 },
    ],
  },
];

/** The gateway adds a third feature: the device (signed cookie id and fingerprint dimensions). */
export const GATEWAY_GROUPS: readonly FeatureGroup[] = [
  ...FREEMAN_GROUPS,
  {
    name: 'device',
    subs: [
      { name: 'deviceId', weight: 0.5 },
      { name: 'languages', weight: 0.2 },
      { name: 'timeZone', weight: 0.2 },
      { name: 'screen', weight: 0.1 },
    ],
  },
];

/** Counts of one population (one person, or everyone). */
export interface Counts {
  /** Logins counted. */
  total: number;
  /** How often `value` of sub-feature `feature` was seen. */
  count(feature: string, value: string): number;
  /** How many distinct values of `feature` were seen. */
  distinct(feature: string): number;
}

/** Smoothed probability of a value in a population. */
export function smoothed(n: number, total: number, distinct: number): number {
  const u = distinct + 1;
  if (total <= 0) return 0;
  return n > 0 ? (n / total) * (1 - u / (total + u)) : 1 / (total + u);
}

/** p(x^k) for everyone and for the person, summed over the group's weighted sub-features. */
function groupProbabilities(
  group: FeatureGroup,
  x: Readonly<Record<string, string>>,
  user: Counts,
  global: Counts,
): [number, number] {
  let pg = 0;
  let pu = 0;
  for (const sub of group.subs) {
    const value = x[sub.name];
    if (value === undefined) continue;
    const g =
      smoothed(global.count(sub.name, value), global.total, global.distinct(sub.name)) || 1 / (global.total + 2);
    const n = user.count(sub.name, value);
    pg += sub.weight * g;
    pu += sub.weight * (n > 0 ? smoothed(n, user.total, user.distinct(sub.name)) : g / 4);
  }
  return [pg, pu];
}

/**
 * The Freeman risk of a login `x` (sub-feature → value) for a person, given their counts, everyone's
 * counts and the number of people.
 *
 * @example
 * const risk = freemanRisk({ ip: '203.0.113.7', asn: '3215', country: 'FR', ua, browser: 'Firefox 128', os: 'Linux', deviceType: 'desktop' }, mine, all, users);
 */
export function freemanRisk(
  x: Readonly<Record<string, string>>,
  user: Counts,
  global: Counts,
  users: number,
  groups: readonly FeatureGroup[] = FREEMAN_GROUPS,
): number {
  let ratio = 1;
  for (const group of groups) {
    const [pg, pu] = groupProbabilities(group, x, user, global);
    if (pg > 0) ratio *= pg / Math.max(pu, Number.MIN_VALUE);
  }
  const pUser = Math.max(user.total, 1) / Math.max(global.total, 1);
  const pUserAttack = 1 / Math.max(users, 1);
  return (ratio * pUserAttack) / pUser;
}

/** An in-memory `Counts` (the simulator; tests). */
export class MemoryCounts implements Counts {
  total = 0;
  readonly #counts = new Map<string, number>();
  readonly #distinct = new Map<string, number>();

  count(feature: string, value: string): number {
    return this.#counts.get(`${feature}\u0000${value}`) ?? 0;
  }

  distinct(feature: string): number {
    return this.#distinct.get(feature) ?? 0;
  }

  /** Counts one login. */
  add(x: Readonly<Record<string, string>>): void {
    this.total += 1;
    for (const [feature, value] of Object.entries(x)) {
      const key = `${feature}\u0000${value}`;
      const n = (this.#counts.get(key) ?? 0) + 1;
      this.#counts.set(key, n);
      if (n === 1) this.#distinct.set(feature, (this.#distinct.get(feature) ?? 0) + 1);
    }
  }
}
