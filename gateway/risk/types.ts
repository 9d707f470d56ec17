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
