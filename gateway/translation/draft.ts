/**
 * What the steps of the translation point share: the one record a login fills on its way through the table
 * (`pipeline.ts`), what a step returns, and the collaborators the steps use.
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.ts';
import type { Decision } from '../policy/decide.ts';
import type { RiskAssessment, RiskSignals, Transaction } from '../risk/types.ts';
import type { LoginContext } from '../session/login-context.ts';
import type { SessionEvidence } from '../session/session-evidence.ts';
import type { Acr } from '../translate/acr.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import type { FraudService } from './fraud-service.ts';
import type { RequestContext, TranslationInput } from './request-context.ts';

/** What the steps use. */
export interface StepDeps {
  fraud: FraudService;
  logger: Logger;
  /** The highest acr an IdP of this deployment may assert (its adapter's maximum LoA). */
  idpMaxAcr: (idp: string) => Acr;
  /** The gateway's id of a person (`oidc/pairwise.ts`). */
  accountIdOf: (pivot: PivotIdentity) => string;
}

/** One login on its way through the table; each step fills what the next ones read. */
export interface Draft {
  loginId: string;
  login: LoginContext;
  request: RequestContext;
  input: TranslationInput;
  pivot?: PivotIdentity;
  accountId?: string;
  evidence?: SessionEvidence;
  transaction?: Transaction | null;
  signals?: RiskSignals;
  assessment?: RiskAssessment;
  decision?: Decision;
}

/** A step refuses with a code (the login ends FAILED), or returns nothing to go on. */
export type StepResult = { refuse: ErrorCode } | undefined;

export interface Step {
  readonly name: string;
  /** The component named in the audit record when this step ends the login. */
  readonly component: 'translate' | 'risk' | 'policy';
  readonly run: (draft: Draft, deps: StepDeps) => Promise<StepResult>;
}
