/** The records that cross the risk seam: signals in, an assessment out. */
export interface RiskSignals {
  loginId: string;
  clientId: string;
  idp: string;
  /** Pairwise-safe internal account id (never the upstream subject in clear). */
  accountId: string;
  ip: string;
  userAgent: string;
  acr: string;
}

export interface StageResult {
  name: string;
  outcome: 'ok' | 'suspicious' | 'error' | 'skipped';
  ms: number;
  degraded: boolean;
}

export interface RiskAssessment {
  /** 0 (no risk) … 1 (certain fraud). */
  score: number;
  factors: string[];
  stages: StageResult[];
}
