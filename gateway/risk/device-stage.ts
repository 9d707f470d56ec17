/**
 * Stage 2 — device trust (budget 100 ms). The Freeman model over the person's own history and everyone's,
 * with three features: IP (address, ASN or prefix, country), user agent (string, browser, OS, device type)
 * and device (signed cookie id, languages, time zone, screen).
 *
 * - risk → score with s = r / (r + θ) (θ from the policy data: the risk at which the stage says 0.5);
 * - cold start: a person's first login scores 0 (`device:first_login`): the IdP has just authenticated them
 *   and there is nothing to compare with; with fewer than `minHistory` logins the score is capped at 0.3;
 * - shares the person's history with later stages (known device, known network, known country);
 * - degraded mode (late or failing): IP reputation only (`ip_reputation`).
 * WebAuthn attestation of a platform authenticator is not part of this stage (not built).
 */
import { hashValue } from './fingerprint.ts';
import { freemanRisk, GATEWAY_GROUPS } from './freeman.ts';
import type { IpReputation } from './ip-reputation.ts';
import { prefixOf } from './network.ts';
import { beginWork, takeBegun, type RiskStage, type StageContext, type StageOutput } from './pipeline.ts';
import { GLOBAL_SCOPE, type RbaStore } from './rba-store.ts';
import type { RiskSignals } from './types.ts';

export interface DeviceHistory {
  total: number;
  knownDevice: boolean;
  knownNetwork: boolean;
  knownCountry: boolean;
}

export interface DeviceStageOptions {
  store: RbaStore;
  hashKey: string;
  ipReputation: IpReputation;
  /** θ: the Freeman risk that maps to score 0.5. */
  calibration?: number;
  minHistory?: number;
  budgetMs?: number;
}

/**
 * A login's features, by its signals object (issue #14): the device stage and then the record of the
 * assessment (`translation/fraud-service.ts`) both need them, and they cost one HMAC per sub-feature. The
 * signals of a login are not changed once assembled; the entry goes with the object.
 */
const computed = new WeakMap<RiskSignals, { hashKey: string; features: Readonly<Record<string, string>> }>();

/** The hashed sub-feature values of a login (what the store counts); computed once per signals and key. */
export function deviceFeatures(signals: RiskSignals, hashKey: string): Record<string, string> {
  const held = computed.get(signals);
  if (held?.hashKey === hashKey) return { ...held.features };
  const features = hashedFeatures(signals, hashKey);
  computed.set(signals, { hashKey, features: Object.freeze({ ...features }) });
  return features;
}

function hashedFeatures(signals: RiskSignals, hashKey: string): Record<string, string> {
  const fp = signals.fingerprint;
  const net = signals.network;
  const raw: Record<string, string> = {
    ip: signals.ip,
    asn: net?.asn ?? net?.prefix ?? prefixOf(signals.ip),
    country: net?.country ?? 'ZZ',
    ua: signals.userAgent,
    browser: fp?.uaFamily ?? 'other',
    os: fp?.os ?? 'other',
    deviceType: fp?.deviceType ?? 'unknown',
    deviceId: signals.deviceId ?? 'none',
    languages: fp?.languages ?? 'none',
    timeZone: fp?.timeZone ?? 'unknown',
    screen: fp?.screen ?? 'unknown',
  };
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, hashValue(hashKey, k, v)]));
}

export class DeviceTrustStage implements RiskStage {
  readonly name = 'device';
  readonly budgetMs: number;
  readonly #o: Required<Omit<DeviceStageOptions, 'budgetMs'>>;

  constructor(options: DeviceStageOptions) {
    this.budgetMs = options.budgetMs ?? 100;
    this.#o = { calibration: 5, minHistory: 3, ...options };
  }

  /** The read of the counts needs only the signals: begun with the assessment (pipeline.ts). */
  begin(signals: RiskSignals, context: StageContext): void {
    beginWork(context, this.name, () => this.#read(signals));
  }

  #read(signals: RiskSignals): ReturnType<RbaStore['read']> {
    return this.#o.store.read([`acct:${signals.accountId}`, GLOBAL_SCOPE], deviceFeatures(signals, this.#o.hashKey));
  }

  async run(signals: RiskSignals, context: StageContext): Promise<StageOutput> {
    const x = deviceFeatures(signals, this.#o.hashKey);
    const { counts, users } = await (takeBegun<Awaited<ReturnType<RbaStore['read']>>>(context, this.name) ??
      this.#read(signals));
    const [mine, all] = counts as [NonNullable<(typeof counts)[0]>, NonNullable<(typeof counts)[0]>];
    const history: DeviceHistory = {
      total: mine.total,
      knownDevice: signals.deviceId ? mine.count('deviceId', x.deviceId!) > 0 : false,
      knownNetwork: mine.count('asn', x.asn!) > 0,
      knownCountry: mine.count('country', x.country!) > 0,
    };
    context.set('history', history);
    if (mine.total === 0) return { score: 0, factors: ['device:first_login'] };
    const risk = freemanRisk(x, mine, all, Math.max(users, 1), GATEWAY_GROUPS);
    context.set('freemanRisk', risk);
    let score = risk / (risk + this.#o.calibration);
    const factors: string[] = [];
    if (mine.total < this.#o.minHistory) {
      score = Math.min(score, 0.3);
      factors.push('device:thin_history');
    }
    if (score >= 0.5) factors.push('device:unfamiliar');
    return { score, factors };
  }

  async degrade(signals: RiskSignals): Promise<StageOutput> {
    const score = this.#o.ipReputation.score(signals.network?.prefix ?? prefixOf(signals.ip));
    return { score, factors: ['device:ip_reputation_only'], fallback: 'ip_reputation' };
  }
}
