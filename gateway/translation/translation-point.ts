/**
 * The translation point: a login's input (the IdP's verified answer, or the evidence of an existing gateway
 * session) and its request context in, an `Outcome` out, through the table of `pipeline.ts`. It is the one
 * place that moves a login through its decision:
 *
 * - in: `AUTHENTICATING → FRAUD_CHECK` (an upstream answer) or `INITIATED → FRAUD_CHECK` (a login on a
 *   session: SSO to another RP, `prompt=none`, `max_age` re-use, the same RP again), audited with the
 *   upstream evidence the login stands on;
 * - a refused step: `FRAUD_CHECK → FAILED` with its code, and the outcome `rejected`;
 * - the decision acted on (`settle`): allow → TOKEN_GENERATION; flag → FLAGGED → MANUAL_REVIEW; deny → FAILED
 *   with the policy's reason; step-up → nothing here (the next upstream request makes it AUTHENTICATING);
 * - a login that cannot go on without the person (`refuse`, e.g. `prompt=none`), or whose requirements cannot
 *   be met (`end`: no IdP reaches the acr, a failed step-up): FAILED with its code.
 *
 * The outcome is kept (sealed) for the completion to act on once. It knows no HTTP (the surfaces gather
 * `RequestContext`) and nothing of oidc-provider; `interaction/`, `oidc/` and `completion/` call it.
 */
import type { Logger } from 'pino';
import { GatewayError, type ErrorCode } from '../errors.ts';
import { denialCode } from '../policy/decide.ts';
import type { HeldSlot } from '../flow/held-slot.ts';
import type { HeldClaim, LoginFlow } from '../flow/login-flow.ts';
import type { LoginContextStore, LoginOutcome } from '../session/login-context.ts';
import type { Acr } from '../translate/acr.ts';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import type { FraudService } from './fraud-service.ts';
import { runPipeline, type Draft, type StepDeps } from './pipeline.ts';
import type { RequestContext, TranslationInput } from './request-context.ts';

export interface TranslationDeps {
  flow: Pick<LoginFlow, 'transition' | 'transitionHolding' | 'startThen'>;
  logins: Pick<LoginContextStore, 'load' | 'save' | 'saveOutcome'>;
  fraud: FraudService;
  logger: Logger;
  idpMaxAcr: (idp: string) => Acr;
  accountIdOf: (pivot: PivotIdentity) => string;
}

type Verified = Extract<LoginOutcome, { status: 'verified' }>;

export class TranslationPoint {
  readonly #deps: TranslationDeps;
  readonly #steps: StepDeps;

  constructor(deps: TranslationDeps) {
    this.#deps = deps;
    this.#steps = {
      fraud: deps.fraud,
      logger: deps.logger,
      idpMaxAcr: deps.idpMaxAcr,
      accountIdOf: deps.accountIdOf,
    };
  }

  /**
   * Decides one login and keeps its outcome for the completion (`kept`), or only returns it to a caller that
   * acts on it in this request (`acted-on-now`: a `prompt=none` SSO login; nothing is written for a completion
   * that will never come).
   *
   * `held`: the login already claimed for FRAUD_CHECK by this request (`LoginFlow.claim`, sent with an earlier
   * call): its transition makes no claim call of its own.
   *
   * `start`: the login begins here (an SSO login, its context held for this request only): it is started and
   * moved to FRAUD_CHECK in one chain (`LoginFlow.startThen`: each transition audited first, one Redis call
   * less), then, when its outcome is `kept`, its context is saved for the completion.
   *
   * @example
   * const outcome = await translation.decide(loginId, { kind: 'upstream', identity }, request);
   */
  async decide(
    loginId: string,
    input: TranslationInput,
    request: RequestContext,
    outcomeFor: 'kept' | 'acted-on-now' = 'kept',
    start?: Parameters<LoginFlow['startThen']>[1],
    held?: HeldClaim,
  ): Promise<LoginOutcome> {
    const { flow, logins } = this.#deps;
    const login = await logins.load(loginId);
    if (!login)
      throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
    const fraudCheck = {
      component: input.kind === 'upstream' ? 'translate' : 'sso',
      requestId: request.requestId,
      details: fraudCheckDetails(input),
    };
    let saving: Promise<void> | undefined;
    if (start) {
      await flow.startThen(loginId, start, 'FRAUD_CHECK', fraudCheck);
      // the context, for the completion: sent with the pipeline's first reads (one round trip less, issue #14),
      // stored before anything is decided on it (waited for below, its failure the login's)
      if (outcomeFor === 'kept') saving = logins.save(login);
      saving?.catch(() => undefined); // looked at below: never an unhandled rejection meanwhile
    } else await flow.transition(loginId, 'FRAUD_CHECK', held ? { ...fraudCheck, held } : fraudCheck);
    const draft: Draft = { loginId, login, request, input };
    let refused: Awaited<ReturnType<typeof runPipeline>>;
    try {
      refused = await runPipeline(draft, this.#steps);
    } catch (error) {
      await saving?.catch(() => undefined); // never a write still in flight when the failure is answered
      throw error;
    }
    await saving;
    if (refused) {
      if (outcomeFor === 'kept') await this.refuse(loginId, refused.code, refused.component, request.requestId);
      else await this.end(loginId, refused.code, refused.component, request.requestId);
      return { status: 'rejected', code: refused.code };
    }
    const { pivot, accountId, evidence, decision, assessment } = draft;
    if (!pivot || !accountId || !evidence || !decision || !assessment)
      throw new GatewayError('INTERNAL', 500, 'translation pipeline ended without a decision');
    const outcome: Verified = {
      status: 'verified',
      accountId,
      pivot,
      idp: evidence.idp,
      decision,
      fraudScore: assessment.score,
      authTime: evidence.authTime,
      oneTimeUse: input.kind === 'upstream' ? input.identity.evidence.oneTimeUse : false,
      evidence,
    };
    if (outcomeFor === 'kept') await logins.saveOutcome(loginId, outcome);
    return outcome;
  }

  /** Ends a login that cannot go on: FAILED with its code, the outcome `rejected` (for the completion). */
  async refuse(loginId: string, code: ErrorCode, component: string, requestId: string): Promise<void> {
    await this.end(loginId, code, component, requestId);
    await this.#deps.logins.saveOutcome(loginId, { status: 'rejected', code });
  }

  /** Ends a login whose requirements cannot be met (no IdP reaches the acr, a step-up failed): FAILED with its code. */
  async end(loginId: string, code: ErrorCode, component: string, requestId: string): Promise<void> {
    await this.#deps.flow.transition(loginId, 'FAILED', { component, errorCode: code, requestId });
  }

  /**
   * The transitions a decision asks for (see the file comment); the caller then acts on it. An `allow` enters
   * TOKEN_GENERATION holding the login for COMPLETED (`LoginFlow.transitionHolding`): the caller passes the
   * claim returned to that transition, or releases it if the request ends otherwise.
   */
  async settle(loginId: string, outcome: Verified, requestId: string, slot?: HeldSlot): Promise<HeldClaim | undefined> {
    const { flow } = this.#deps;
    const { decision } = outcome;
    // the login claimed already with the outcome's read (resume-completion.ts): the first transition takes it
    const taken = () => {
      const held = slot?.take();
      return held ? { held } : {};
    };
    switch (decision.kind) {
      case 'allow':
        return flow.transitionHolding(loginId, 'TOKEN_GENERATION', {
          component: 'policy',
          requestId,
          details: { decision: decision.kind, level: decision.level ?? 0, score: outcome.fraudScore },
          ...taken(),
        });
      case 'flag':
        await flow.transition(loginId, 'FLAGGED', {
          component: 'policy',
          requestId,
          details: { reasons: decision.reasons, score: outcome.fraudScore },
          ...taken(),
        });
        await flow.transition(loginId, 'MANUAL_REVIEW', { component: 'review', requestId });
        return;
      case 'deny':
        await flow.transition(loginId, 'FAILED', {
          component: 'policy',
          errorCode: denialCode(decision),
          requestId,
          ...taken(),
        });
        return;
      case 'step_up':
        // the upstream request that answers it moves the login to AUTHENTICATING (interaction/start-upstream.ts)
        return;
      default: {
        const unknown: never = decision.kind;
        throw new GatewayError('INTERNAL', 500, 'unknown decision', { detail: String(unknown) });
      }
    }
  }
}

/** The FRAUD_CHECK audit record names what the login stands on. */
function fraudCheckDetails(input: TranslationInput): Record<string, unknown> {
  if (input.kind === 'upstream') {
    const { identity } = input;
    return {
      idp: identity.idp,
      responseId: identity.evidence.responseId,
      assertionId: identity.evidence.assertionId,
      signaturesVerified: identity.evidence.signaturesVerified,
      loa: identity.loa,
    };
  }
  const { evidence } = input;
  return {
    sso: true,
    idp: evidence.idp,
    establishedBy: evidence.loginId,
    acr: evidence.acr,
    authTime: evidence.authTime,
    responseId: evidence.responseId,
    assertionId: evidence.assertionId,
    signaturesVerified: evidence.signaturesVerified,
  };
}
