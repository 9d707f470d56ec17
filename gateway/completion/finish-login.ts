/**
 * The last step of every successful login, whichever way it was decided (the policy's allow, an approved
 * manual review, a WebAuthn step-up): the account is stored, the grant recorded, oidc-provider told the
 * result, COMPLETED audited, and only then the browser sent on to the RP with its code. Lives below both the
 * interaction pages and the WebAuthn ceremonies, which both end here.
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { HeldClaim } from '../flow/login-flow.ts';
import type { Services } from '../services.ts';
import { idpNoLongerVouches } from '../idps/idp-still-vouches.ts';
import type { LoginOutcome } from '../session/login-context.ts';
import { loaOfAcr } from '../translate/acr.ts';
import { loginAmr } from '../translate/amr.ts';
import { createGrant } from './grant-consent.ts';
import { linkGrantToLogin } from '../risk/grant-links.ts';
import { enrolmentKey } from '../session/enrolment-key.ts';

type Details = Awaited<ReturnType<Services['holder']['provider']['interactionDetails']>>;

/** The interaction result's key that says whether the login's own upstream answer was verified (see below). */
const UPSTREAM_LOGIN = 'gatewayUpstreamLogin';

/**
 * Whether the login an interaction result finishes may have an upstream session kept under its id (the
 * login-response route keeps one for every upstream answer it verifies): false only for a login that stood on
 * the session's earlier upstream authentication (SSO, a WebAuthn step-up on it), whose resumption then reads
 * no upstream record that cannot exist (issue #14). A result written without the key (by the code before) may.
 */
export function mayHaveUpstreamLogin(result: unknown): boolean {
  return (result as Record<string, unknown> | undefined)?.[UPSTREAM_LOGIN] !== false;
}

/**
 * Stores the interaction's result: oidc-provider's `interactionResult` where the browser holds the interaction
 * cookie (/interaction/:uid/...), or the interaction read by the resume itself (interaction/resume-completion.ts),
 * whose request then goes on into oidc-provider. Resolves to the resume URL.
 */
export type StoreResult = (result: InteractionResults) => Promise<string>;

/**
 * Finishes a verified login with the RP (exported for the WebAuthn step-up, which passes the methods it
 * used). `amr` (RFC 8176) comes from the upstream authentication context — the IdP's `amr` map or the
 * eIDAS minimum of the asserted LoA — and the step-up this login satisfied (translate/amr.ts).
 */
export async function finish(
  ctx: Context,
  services: Services,
  details: Details,
  uid: string,
  outcome: Extract<LoginOutcome, { status: 'verified' }>,
  from: 'TOKEN_GENERATION' | 'MANUAL_REVIEW',
  stepUpMethods: readonly string[] = [],
): Promise<void> {
  const provider = services.holder.provider;
  const resume = await completeLogin(ctx, services, details, uid, outcome, from, stepUpMethods, (result) =>
    provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
  );
  ctx.status = 303;
  ctx.redirect(resume);
}

/**
 * {@link finish} without the redirect: account, grant, the result stored by `store`, COMPLETED audited, the
 * login learnt; resolves to the resume URL. The resume request (interaction/resume-completion.ts) goes on
 * into oidc-provider, which issues the code in the same request.
 */
export async function completeLogin(
  ctx: Context,
  services: Services,
  details: Details,
  uid: string,
  outcome: Extract<LoginOutcome, { status: 'verified' }>,
  from: 'TOKEN_GENERATION' | 'MANUAL_REVIEW',
  stepUpMethods: readonly string[],
  store: StoreResult,
  held?: HeldClaim,
  along?: Promise<unknown>,
): Promise<string> {
  // the IdP must still vouch for the login as it completes: one disabled, removed or lowered meanwhile (a manual
  // review's wait, a WebAuthn step-up, an SSO decided at the authorization request) gives no code
  const withdrawn = idpNoLongerVouches(
    services.adapters.list(),
    outcome.idp,
    String(details.params.client_id ?? ''),
    outcome.pivot.acr,
    services.adapters.leftOutEnabled,
  );
  if (withdrawn !== null && withdrawn !== 'idp_not_loaded_here') {
    // the WebAuthn enrolment grant sent along is written before it is taken back
    await along?.catch(() => undefined);
    return await refuseAtCompletion(services, uid, undefined, from, requestIdOf(ctx), store, 'IDP_UNAVAILABLE', held);
  }
  const idpMap = services.config.saml.idps.find((idp) => idp.id === outcome.idp)?.amr;
  const amr = loginAmr({
    loa: loaOfAcr(outcome.pivot.acr),
    ...(idpMap ? { idpMap } : {}),
    stepUpLevel: outcome.decision.level ?? 0,
    stepUpMethods,
  });
  const requestId = requestIdOf(ctx);
  // the identity and the grant: written together, in one round trip and one transaction (issue #14)
  // `along` (the WebAuthn enrolment grant) was sent with this request's first write of the completion
  // (both waited for: a failure is answered only once nothing of the completion is still in flight)
  const [written, enrolled] = await Promise.allSettled([
    services.sessions.store.holdWrites(async () => {
      await services.accounts.save(
        outcome.accountId,
        {
          pivot: outcome.pivot,
          idp: outcome.idp,
          fraudScore: outcome.fraudScore,
          ...(outcome.oneTimeUse ? { oneTimeUse: true } : {}),
        },
        // what this session's tokens are served, and a later login on it (SSO) is decided on: never one from a
        // one-time-use assertion (completion/sso.ts skips it)
        outcome.oneTimeUse && outcome.evidence ? { ...outcome.evidence, oneTimeUse: true } : outcome.evidence,
      );
      return createGrant(services, details, outcome.accountId);
    }),
    along,
  ]);
  if (written.status === 'rejected' || enrolled.status === 'rejected') {
    // the enrolment grant may be written already (sent with this completion, or before it): a login that did not
    // complete enrols no WebAuthn key afterwards
    await services.redis.del(enrolmentKey(uid)).catch(() => undefined);
    throw written.status === 'rejected' ? written.reason : (enrolled as PromiseRejectedResult).reason;
  }
  const grantId = written.value;
  // The grant's links to the login are written first, the result next, COMPLETED is audited then, and only then
  // is the browser sent on: the audit trail is complete by the time the RP can redeem the code.
  let resume: string;
  try {
    // the link first, then the result: a late fraud verdict that refused this login before its grant existed is
    // seen before any result a resume could act on is stored (a round trip of its own: a concurrent resume would
    // otherwise log the browser's session in on the success result before it is replaced)
    if ((await linkGrantToLogin(services.redis, grantId, uid, services.config.ttl.grant)) === 'late-deny')
      return await refuseAtCompletion(services, uid, grantId, from, requestId, store, 'RISK_LATE_VERDICT', held);
    resume = await store(
      // auth_time is when the person authenticated at the IdP (its AuthnInstant), never our clock
      {
        login: { accountId: outcome.accountId, acr: outcome.pivot.acr, amr, ts: outcome.authTime },
        consent: { grantId },
        // the evidence of an upstream answer names this login; of an SSO login, the login that established the session
        [UPSTREAM_LOGIN]: outcome.evidence === undefined || outcome.evidence.loginId === uid,
      },
    );
    await services.flow.transition(uid, 'COMPLETED', {
      component: from === 'MANUAL_REVIEW' ? 'review' : 'oidc',
      requestId,
      ...(held === undefined ? {} : { held }),
      // the login learnt once COMPLETED is audited; its first read goes with the commit (one round trip less)
      alongCommit: () => learnFrom(services, uid, outcome.accountId),
    });
  } catch (error) {
    // The login result may be stored but COMPLETED is not audited (or the grant's links are missing): replace
    // the result with a refusal before the error answers, so that a reload of the resume (GET /auth/:uid) tells
    // the RP server_error and never issues a code for a login whose completion is not in the audit trail
    // (security review, issue #14).
    await store({ error: 'server_error', error_description: 'the sign-in could not be completed' }).catch(
      (err: unknown) => services.logger.error({ err, loginId: uid }, 'the stored login result could not be withdrawn'),
    );
    // nor may a login that did not complete enrol a WebAuthn key afterwards
    await services.redis.del(enrolmentKey(uid)).catch(() => undefined);
    throw error;
  }
  return resume;
}

const requestIdOf = (ctx: Context): string => ctx.state.requestId as string;

/**
 * A login refused as it completes: a late fraud verdict denied it before it had a grant (risk/grant-links.ts,
 * `RISK_LATE_VERDICT`), or its IdP no longer vouches for it (`IDP_UNAVAILABLE`). The grant this completion made (if
 * any) ended, its enrolment grant too, a refusal stored as its result (the RP is told `access_denied`; no success
 * result was stored before it), and the login FAILED (DENIED from a manual review). Resolves to the resume URL.
 */
async function refuseAtCompletion(
  services: Services,
  uid: string,
  grantId: string | undefined,
  from: 'TOKEN_GENERATION' | 'MANUAL_REVIEW',
  requestId: string,
  store: StoreResult,
  errorCode: 'RISK_LATE_VERDICT' | 'IDP_UNAVAILABLE',
  held?: HeldClaim,
): Promise<string> {
  // the grant and an enrolment grant the completion's first write made ended first: a failed store cannot skip them
  await Promise.all([
    grantId === undefined ? undefined : endGrant(services, grantId),
    services.redis.del(enrolmentKey(uid)),
  ]);
  const resume = await store({ error: 'access_denied', error_description: 'the sign-in was refused' });
  await services.flow.transition(uid, from === 'MANUAL_REVIEW' ? 'DENIED' : 'FAILED', {
    component: errorCode === 'RISK_LATE_VERDICT' ? 'risk' : 'oidc',
    errorCode,
    requestId,
    ...(held === undefined ? {} : { held }),
  });
  return resume;
}

/** Ends a grant and every token issued on it. */
export async function endGrant(services: Services, grantId: string): Promise<void> {
  const provider = services.holder.provider;
  await (await provider.Grant.find(grantId))?.destroy();
  await provider.AccessToken.adapter.revokeByGrantId(grantId);
}

/**
 * The risk side learns from a COMPLETED login (its devices, places, habits); a failure is logged, never thrown.
 * Sent along COMPLETED's commit, once its audit record is written: a commit that then fails (Redis lost the
 * write; the claim lapsed while the audit record was being written, past its half-lease check) still learns a
 * login the pipeline allowed for a person the IdP authenticated — never an attack's features, never a denied or
 * flagged login — so it costs no round trip of its own.
 */
export async function learnFrom(services: Services, uid: string, accountId: string): Promise<void> {
  await services.fraud
    .learn(uid, accountId)
    .catch((err: unknown) => services.logger.warn({ err, loginId: uid }, 'history not updated'));
}
