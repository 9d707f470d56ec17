/**
 * The completion step — acts once on the stored outcome of a login (a first login, or a login on an existing
 * session: completion/sso.ts), in the browser that holds the interaction's cookies: in oidc-provider's resume
 * request, GET /auth/:uid, after its resume cookie's checks (resume-completion.ts: the usual way since
 * issue #14), or at GET /interaction/:uid/complete (the interaction cookie; the review page's way back after an
 * approval, and links from before the upgrade). The transitions of the decision are the translation point's
 * (`settle`):
 * - allow → TOKEN_GENERATION, account stored (the browser may then see its WebAuthn keys, and after a fresh LoA-high login enrol one: webauthn/step-up.ts), grant recorded, oidc-provider issues the code → COMPLETED;
 *   the features of the login become the person's history; `amr` (RFC 8176) says how the person
 *   authenticated upstream and whether a step-up happened (translate/amr.ts);
 * - level 2 or 3 required and the account enrolled a suitable WebAuthn credential → the WebAuthn page
 *   (webauthn/step-up.ts); otherwise as below (level 3 without a key: manual review);
 * - step_up → the IdP is asked again, forcing authentication at the level the policy requires (level 1:
 *   the same acr; level 2: eidas3), and the level is remembered so the next pass does not ask again;
 * - flag → FLAGGED → MANUAL_REVIEW: the login joins the review queue and the browser waits on the review
 *   page; after an operator's approval it comes back here and finishes (MANUAL_REVIEW → COMPLETED); after a
 *   denial or the timeout (900 s, the flow sweeper) the RP gets access_denied;
 * - a failed step-up (exhausted, or the level still short after asking again) → the RP gets
 *   unmet_authentication_requirements with its state and iss (eligible-idps.ts);
 * - deny, or a rejected upstream answer → the RP gets access_denied with its state and iss (an answer that met
 *   an unavailable dependency: temporarily_unavailable, as does this step when it meets one).
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { errorSpec, type OAuthError } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import type { HeldSlot } from '../flow/held-slot.ts';
import type { Services } from '../services.ts';
import type { LoginOutcome } from '../session/login-context.ts';
import { completeLogin, finish, type StoreResult } from '../completion/finish-login.ts';
import { translationPoint } from '../completion/translation-of.ts';
import { startUpstream } from './start-upstream.ts';
import { endUnmet } from './eligible-idps.ts';
import { refuseAnotherBrowser } from '../session/same-browser.ts';
import { answerUnavailableAtCompletion } from './unavailable-mid-login.ts';
import { REVIEW_TIMEOUT_SECONDS } from '../review/review-store.ts';
import { FRESH_LOGIN_SECONDS, grantEnrolment, offerWebAuthn } from '../webauthn/step-up.ts';

/**
 * A deny that ends a step-up: the risk step-ups are exhausted, or the level was still short after the IdP
 * was asked again (LOA_INSUFFICIENT after a step-up). A first-pass LoA shortfall the IdP cannot fix stays a
 * plain denial.
 */
function isFailedStepUp(reasons: readonly string[], stepUps: number): boolean {
  if (reasons[0] === 'RISK_STEP_UP_EXHAUSTED') return true;
  return reasons[0] === 'LOA_INSUFFICIENT' && stepUps > 0;
}

type Details = Awaited<ReturnType<Services['holder']['provider']['interactionDetails']>>;

/**
 * Where the completion step ends the interaction: here (/interaction/:uid/complete, the interaction cookie's
 * path) or in the resume request itself (resume-completion.ts, the resume cookie's path).
 */
export interface InteractionEnd {
  details: Details;
  /** Stores an allow's result; resolves to the resume URL. */
  store: StoreResult;
  /** After an allow's result is stored and COMPLETED audited: here, 303 to the resume; at the resume, nothing. */
  sendOn: (resume: string) => void;
  /** Stores a refusal (an OAuth error for the RP); here it also answers 303 to the resume. */
  refuse: (result: InteractionResults) => Promise<void>;
}

/** Ending the interaction here, with oidc-provider's helpers (they read the interaction cookie). */
function endHere(ctx: Context, services: Services, details: Details): InteractionEnd {
  const provider = services.holder.provider;
  return {
    details,
    store: (result) => provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
    sendOn: (resume) => {
      ctx.status = 303;
      ctx.redirect(resume);
    },
    refuse: (result) => provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
  };
}

/**
 * The completion step; a dependency's 503 met on the way (HSM_BUSY, DATABASE_UNAVAILABLE, ...) fails the login
 * and tells the RP `temporarily_unavailable` where the interaction can still be finished (unavailable-mid-login.ts).
 */
export async function completeInteraction(ctx: Context, services: Services, uid: string): Promise<void> {
  const provider = services.holder.provider;
  const refuse = (result: InteractionResults) =>
    provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  try {
    services.logins.prefetch(uid); // with the interaction's read: one round trip (used once the uid is checked)
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
    // in the browser the login is bound to, before anything is taken (session/same-browser.ts)
    await refuseAnotherBrowser(ctx, services, uid, (await services.logins.load(uid))?.browserBinding, 'completion');
    // The outcome first: a login with an outcome to act on has no review. An outcome is saved only right after
    // the login entered FRAUD_CHECK or FAILED; a review row only once it reached MANUAL_REVIEW (the 'flag' case
    // of actOnOutcome, after taking the outcome), from which no transition leads back to either. So the review
    // queue is read only when there is no outcome (issue #14: one PostgreSQL statement less per login).
    const outcome = await services.logins.takeOutcome(uid);
    const end = endHere(ctx, services, details);
    if (!outcome) await completeReviewed(ctx, services, end, uid);
    else await actOnOutcome(ctx, services, uid, outcome, end);
  } catch (error) {
    if (!(await answerUnavailableAtCompletion(ctx, services, uid, error, refuse))) throw error;
  }
}

/**
 * Acts once on a login's outcome, already taken from the store (see the file comment); the interaction is
 * ended through `end`.
 */
export async function actOnOutcome(
  ctx: Context,
  services: Services,
  uid: string,
  outcome: LoginOutcome,
  end: InteractionEnd,
  slot?: HeldSlot,
): Promise<void> {
  const requestId = ctx.state.requestId as string;
  const deny = (description: string, error: OAuthError = 'access_denied') =>
    end.refuse({ error, error_description: description });
  if (outcome.status === 'rejected') {
    // the registry says what the RP is told (login_required: it may retry with prompt=login); access_denied otherwise
    const { oauth, en, status } = errorSpec(outcome.code);
    // a fault of ours after the answer was verified (upstream-answer.ts): the RP is told so, not "refused"
    if (oauth === null && status >= 500) return deny('the sign-in failed at the gateway', 'server_error');
    await deny(
      oauth === null || oauth === 'access_denied' ? 'the identity provider answer was refused' : en,
      oauth ?? 'access_denied',
    );
    return;
  }
  const { decision } = outcome;
  const translation = translationPoint(services);
  // Levels 2 and 3 are answered at the gateway with WebAuthn when the account enrolled a suitable key.
  if (await offerWebAuthn(ctx, services, uid, outcome, slot)) return;
  switch (decision.kind) {
    case 'allow': {
      // TOKEN_GENERATION, holding the login for COMPLETED (no claim call of its own): given back on failure
      const held = await translation.settle(uid, outcome, requestId, slot);
      try {
        // the enrolment grant goes with the completion's first write (one round trip less); awaited before the
        // login's result is stored
        const enrolment = grantEnrolment(ctx, services, uid, outcome, decision.level ?? 0, FRESH_LOGIN_SECONDS);
        // its failure is answered by completeLogin, which waits for it; marked handled in case completeLogin
        // throws before waiting (never an unhandled rejection that would end the process)
        enrolment.catch(() => undefined);
        const resume = await completeLogin(
          ctx,
          services,
          end.details,
          uid,
          outcome,
          'TOKEN_GENERATION',
          [],
          end.store,
          held,
          enrolment,
        );
        end.sendOn(resume);
      } catch (error) {
        if (held) await services.flow.release(uid, held);
        throw error;
      }
      return;
    }
    case 'step_up': {
      await slot?.giveBack(); // the upstream request claims the login itself
      const login = await services.logins.load(uid);
      if (!login?.idp)
        throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
      if (decision.level !== undefined) await services.fraud.stepUpRequested(uid, outcome.accountId, decision.level);
      await startUpstream(
        ctx,
        services,
        { ...login, requiredAcr: decision.requiredAcr, stepUps: login.stepUps + 1 },
        login.idp,
        decision.level ?? 0,
      );
      return;
    }
    case 'flag': {
      await translation.settle(uid, outcome, requestId, slot);
      const login = await services.logins.load(uid);
      await services.logins.holdSealed('review:outcome', uid, outcome, REVIEW_TIMEOUT_SECONDS + 120);
      // a flag by the review threshold (RISK_REVIEW) carries no level: it is riskier than level 3, so it counts as 3
      await services.fraud.reviews.enqueue({
        loginId: uid,
        clientId: login?.clientId ?? String(end.details.params.client_id),
        idp: outcome.idp,
        accountId: outcome.accountId,
        score: outcome.fraudScore,
        reasons: decision.reasons,
        level: decision.level ?? 3,
      });
      await services.fraud
        .refused(uid)
        .catch((err: unknown) => services.logger.warn({ err, loginId: uid }, 'ip reputation not updated'));
      ctx.status = 303;
      ctx.redirect(`/interaction/${encodeURIComponent(uid)}/review`);
      return;
    }
    case 'deny': {
      if (isFailedStepUp(decision.reasons, (await services.logins.load(uid))?.stepUps ?? 0)) {
        await slot?.giveBack(); // the login is ended as unmet below, which claims it itself
        // the stronger check the login needed did not succeed: the RP learns its requirements were not met
        await services.fraud
          .refused(uid)
          .catch((err: unknown) => services.logger.warn({ err, loginId: uid }, 'ip reputation not updated'));
        await endUnmet(ctx, services, uid, 'STEP_UP_FAILED', 'policy', end.refuse);
        return;
      }
      await translation.settle(uid, outcome, requestId, slot);
      await services.fraud
        .refused(uid)
        .catch((err: unknown) => services.logger.warn({ err, loginId: uid }, 'ip reputation not updated'));
      await deny('the sign-in was refused by policy');
      return;
    }
    default: {
      const unknown: never = decision.kind;
      throw new GatewayError('INTERNAL', 500, 'unknown decision', { detail: String(unknown) });
    }
  }
}

/**
 * A completion without an outcome: the login is (or was) under manual review, or there is nothing to complete
 * (`LOGIN_STATE_INVALID`). An approved review finishes the login (MANUAL_REVIEW → COMPLETED); a pending one
 * sends the browser back to wait; anything else tells the RP it was refused.
 */
async function completeReviewed(ctx: Context, services: Services, end: InteractionEnd, uid: string): Promise<void> {
  const review = await services.fraud.reviews.get(uid);
  if (!review) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to complete for this sign-in');
  const record = await services.flow.get(uid);
  if (review.status === 'approved' && record?.state === 'MANUAL_REVIEW') {
    const held = await services.logins.takeSealed<LoginOutcome>('review:outcome', uid);
    if (held?.status !== 'verified')
      throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to complete for this sign-in');
    // approved at the level the review stood for; the authentication was fresh when the review began
    await grantEnrolment(
      ctx,
      services,
      uid,
      held,
      held.decision.level ?? 0,
      FRESH_LOGIN_SECONDS + REVIEW_TIMEOUT_SECONDS,
    );
    await finish(ctx, services, end.details, uid, held, 'MANUAL_REVIEW');
    return;
  }
  if (review.status === 'pending' && record?.state === 'MANUAL_REVIEW') {
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(uid)}/review`);
    return;
  }
  await end.refuse({ error: 'access_denied', error_description: 'the sign-in was refused after review' });
}
