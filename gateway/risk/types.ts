/**
 * The records that cross the risk seam: signals in, an assessment out.
 *
 * - `RiskSignals` is everything the translation point knows about one login attempt; nothing raw that the
 *   pipeline does not need (no trajectories, no password, no upstream subject in clear);
 * - `RiskAssessment` is what the policy and the audit log see: a score 0..1, the factors that made it,
 *   warnings passed on to the relying party, and per stage its outcome, time taken and whether it degraded.
 */

/** What the RP says is at stake (RFC 9396 `authorization_details`). */

/** The factor of an assessment that ran rule-only (pipeline.ts; the policy's `degradedLevel` reads it). */
export const RULE_ONLY_FACTOR = 'pipeline:rule_only';

/**
 * Stages whose late or failed answer is made up after the login, once queued: cross-session correlation is
 * reprocessed without a budget (`reprocess.ts`, factor `correlation:queued`) and its late verdict can still revoke.
 */
const MADE_UP_LATER: ReadonlySet<string> = new Set(['correlation']);

/**
 * The stages of an assessment that did not answer in time or failed, with nothing to make them up: their degraded
 * mode (scoring less: IP reputation for device trust, the fingerprint for behaviour) stood in. A login the full
 * engine would have stepped up or reviewed must not pass because one stage was made late (a stall, a pause, a
 * slow Redis slot): the policy then asks its `degradedLevel`, as in rule-only mode.
 *
 * @example
 * stagesNotAssessed({ score: 0, factors: ['device:late', 'device:ip_reputation_only'], stages: [] }) // ['device']
 */
export function stagesNotAssessed(assessment: Pick<RiskAssessment, 'factors'>): string[] {
  const missed = new Set<string>();
  for (const factor of assessment.factors) {
    const [, stage, how] = /^([a-z_]+):(late|error|fallback_error)$/.exec(factor) ?? [];
    if (!stage) continue;
    if (how === 'fallback_error' || !MADE_UP_LATER.has(stage)) missed.add(stage);
  }
  return [...missed];
}
export interface Transaction {
  type: string;
  /** Amount in euros (minor units are not used), when the transaction has one. */
  amountEur: number | null;
}

/** Where an address is: filled by a `NetworkResolver` (no GeoIP database is bundled: the default knows the prefix only). */
export interface NetworkInfo {
  /** The /24 (IPv4) or /48 (IPv6) prefix: the "network" of the Freeman model when no ASN is known. */
  prefix: string;
  asn: string | null;
  /** ISO 3166 alpha-2, or `ZZ` when unknown. */
  country: string;
  lat: number | null;
  lon: number | null;
}

/** Fingerprint dimensions (values are kept hashed in the stores). */
export interface Fingerprint {
  uaFamily: string;
  os: string;
  deviceType: string;
  languages: string;
  timeZone: string;
  screen: string;
  platform: string;
}

export interface RiskSignals {
  loginId: string;
  clientId: string;
  idp: string;
  /** Pairwise-safe internal account id (never the upstream subject in clear). */
  accountId: string;
  ip: string;
  userAgent: string;
  acr: string;
  /** Time of the attempt, ms since the epoch (simulations set it). */
  at?: number;
  /** The signed device cookie's id, `null` when absent or forged. */
  deviceId?: string | null;
  fingerprint?: Fingerprint;
  network?: NetworkInfo;
  transaction?: Transaction | null;
}

export type StageOutcome = 'ok' | 'suspicious' | 'error' | 'skipped' | 'late' | 'no_signal' | 'queued';

export interface StageResult {
  name: string;
  outcome: StageOutcome;
  ms: number;
  degraded: boolean;
  /** Score contribution 0..1 of the stage (or of its fallback). */
  score?: number;
  /** What ran instead when degraded (`device_fingerprint`, `ip_reputation`, `accept_with_warning`, `async_reprocess`). */
  fallback?: string;
}

export interface RiskAssessment {
  /** 0 (no risk) … 1 (certain fraud). */
  score: number;
  factors: string[];
  stages: StageResult[];
  /** Passed on to the RP (signed assessment, access token). */
  warnings?: string[];
  /** Transaction tier 0..4 (none, <50, 50–500, 500–5000, >5000 €). */
  tier?: number;
}
