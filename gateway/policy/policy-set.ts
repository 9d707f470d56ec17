/**
 * Risk policies as data: one default rule, overridden per identity provider and then per relying party
 * (the RP's word wins: it knows what it protects). Validated once, at boot (`POLICY_INVALID` names the
 * field); evaluated in process by `decide.ts`.
 *
 * ```json
 * { "default": { "thresholds": { "stepUp": 0.5, "biometric": 0.75, "token": null, "review": 0.9, "deny": 0.97 },
 *                "tierLevels": [0, 0, 1, 1, 2], "maxStepUps": 1, "degradedLevel": 1 },
 *   "clients": { "bank-rp": { "tierLevels": [0, 1, 1, 2, 2] } },
 *   "idps": { "legacy-idp": { "thresholds": { "stepUp": 0.4 } } } }
 * ```
 * Levels: 0 nothing more, 1 step-up (the IdP again, ForceAuthn), 2 biometric (the IdP at LoA high),
 * 3 physical token (a FIDO2 security key via WebAuthn at the gateway; without one enrolled, manual review). `token: null`
 * disables level 3 by score. `degradedLevel` (default 1): the least level of a login assessed while the pipeline
 * runs rule-only (risk/overload.ts), or with a stage late or failed that nothing makes up later
 * (risk/types.ts `stagesNotAssessed`).
 */
import { GatewayError } from '../errors.ts';

export interface Thresholds {
  stepUp: number;
  biometric: number;
  token: number | null;
  review: number;
  deny: number;
}

export interface PolicyRule {
  thresholds: Thresholds;
  /** Minimum level per transaction tier 0..4. */
  tierLevels: [number, number, number, number, number];
  maxStepUps: number;
  /**
   * The least level a login assessed rule-only needs (the fraud engine overloaded, every stage in its degraded mode:
   * device trust by network reputation only, no transaction or behaviour analysis; `pipeline:rule_only`): 1 by
   * default, a step-up at the IdP, so that slowing the engine never lets through a login the full assessment would
   * have stepped up. 0 keeps the degraded score alone (an RP that prefers availability under load).
   */
  degradedLevel: number;
}

export interface PolicySet {
  default: PolicyRule;
  clients: Record<string, Partial<PolicyRule> & { thresholds?: Partial<Thresholds> }>;
  idps: Record<string, Partial<PolicyRule> & { thresholds?: Partial<Thresholds> }>;
}

/**
 * Calibrated for first contact (issue #13 item 10): with millions of people a first login from a new
 * device, without behavioural signals, from a shared network, is the normal case. Weak signals together
 * reach a step-up (0.5) at most; level 2 needs a clearly unusual context (0.75); manual review only a
 * strong signal (0.9: one device trying many identities, impossible travel with another signal, a bad IP).
 */
export const DEFAULT_POLICY: PolicyRule = {
  thresholds: { stepUp: 0.5, biometric: 0.75, token: null, review: 0.9, deny: 0.97 },
  tierLevels: [0, 0, 1, 1, 2],
  maxStepUps: 1,
  degradedLevel: 1,
};

const fail = (path: string, why: string) => new GatewayError('POLICY_INVALID', 500, `policy error at ${path}: ${why}`);

function checkRule(raw: unknown, path: string, partial: boolean): Partial<PolicyRule> {
  if (typeof raw !== 'object' || raw === null) throw fail(path, 'must be an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!['thresholds', 'tierLevels', 'maxStepUps', 'degradedLevel'].includes(key))
      throw fail(`${path}.${key}`, 'unknown key');
  const out: Partial<PolicyRule> = {};
  if (o.thresholds !== undefined) {
    if (typeof o.thresholds !== 'object' || o.thresholds === null)
      throw fail(`${path}.thresholds`, 'must be an object');
    const t = o.thresholds as Record<string, unknown>;
    for (const [key, value] of Object.entries(t)) {
      if (!['stepUp', 'biometric', 'token', 'review', 'deny'].includes(key))
        throw fail(`${path}.thresholds.${key}`, 'unknown key');
      if (!(value === null && key === 'token') && (typeof value !== 'number' || value < 0 || value > 1))
        throw fail(`${path}.thresholds.${key}`, 'must be a number in 0..1');
    }
    out.thresholds = t as unknown as Thresholds;
  } else if (!partial) throw fail(`${path}.thresholds`, 'required');
  if (o.tierLevels !== undefined) {
    const levels = o.tierLevels;
    if (!Array.isArray(levels) || levels.length !== 5 || levels.some((l) => ![0, 1, 2, 3].includes(l as number)))
      throw fail(`${path}.tierLevels`, 'five levels 0..3');
    out.tierLevels = levels as PolicyRule['tierLevels'];
  } else if (!partial) throw fail(`${path}.tierLevels`, 'required');
  if (o.maxStepUps !== undefined) {
    if (!Number.isInteger(o.maxStepUps) || (o.maxStepUps as number) < 0 || (o.maxStepUps as number) > 3)
      throw fail(`${path}.maxStepUps`, 'integer 0..3');
    out.maxStepUps = o.maxStepUps as number;
  } else if (!partial) throw fail(`${path}.maxStepUps`, 'required');
  if (o.degradedLevel !== undefined) {
    if (![0, 1, 2, 3].includes(o.degradedLevel as number)) throw fail(`${path}.degradedLevel`, 'a level 0..3');
    out.degradedLevel = o.degradedLevel as number;
  }
  return out;
}

function merge(base: PolicyRule, over: Partial<PolicyRule> | undefined): PolicyRule {
  if (!over) return base;
  return { ...base, ...over, thresholds: { ...base.thresholds, ...over.thresholds } };
}

function checkOrder(rule: PolicyRule, path: string): PolicyRule {
  const t = rule.thresholds;
  if (!(t.stepUp <= t.biometric && t.biometric <= t.review && t.review <= t.deny))
    throw fail(`${path}.thresholds`, 'must satisfy stepUp ≤ biometric ≤ review ≤ deny');
  return rule;
}

/**
 * Validates a policy set (`POLICY_INVALID` with the path on any error).
 *
 * @example
 * const policies = parsePolicySet(JSON.parse(readFileSync(file, 'utf8')));
 */
export function parsePolicySet(raw: unknown): PolicySet {
  if (typeof raw !== 'object' || raw === null) throw fail('(root)', 'must be an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['default', 'clients', 'idps'].includes(key)) throw fail(key, 'unknown key');
  const base =
    o.default === undefined
      ? DEFAULT_POLICY
      : checkOrder(merge(DEFAULT_POLICY, checkRule(o.default, 'default', true)), 'default');
  const section = (name: 'clients' | 'idps') => {
    const s = o[name] ?? {};
    if (typeof s !== 'object' || s === null) throw fail(name, 'must be an object');
    return Object.fromEntries(
      Object.entries(s).map(([id, rule]) => {
        const partial = checkRule(rule, `${name}.${id}`, true);
        checkOrder(merge(base, partial), `${name}.${id}`);
        return [id, partial];
      }),
    );
  };
  return { default: base, clients: section('clients'), idps: section('idps') };
}

/** The rule that applies to a login: default, then the IdP's overrides, then the RP's. */
export function ruleFor(set: PolicySet, clientId: string, idp: string): PolicyRule {
  return checkOrder(merge(merge(set.default, set.idps[idp]), set.clients[clientId]), `clients.${clientId}`);
}
