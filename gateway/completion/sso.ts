/**
 * Every authorization on an existing gateway session (SSO to another RP, `prompt=none`, `max_age` re-use,
 * the same RP again) is a login of its own: INITIATED → FRAUD_CHECK → … through the translation point, on
 * this request's signals and the session's upstream evidence, under the RP's policy and required acr.
 *
 * - {@link sessionStanding}: whether the session may stand for the request at all: the RP is known, the
 *   session's acr meets the acr the RP requires (its `acr_values`, else its defaults, raised to the
 *   federation's and its own minimum), and the account record holds this session's upstream evidence (the
 *   one of the person's kept authentications with the session's acr and `auth_time`; not from a one-time-use
 *   assertion, nor from one whose ProxyRestriction does not name this RP). Otherwise the person goes upstream
 *   again.
 * - {@link beginSsoLogin}: starts the login (INITIATED) and has the translation point decide it.
 * - {@link silentSso}: `prompt=none`: decided while oidc-provider answers the request; an `allow` gets its
 *   code without any page (account, grant, TOKEN_GENERATION, COMPLETED here); anything needing the person is
 *   refused as OIDC Core §3.1.2.6 says (`login_required`, `interaction_required`), a denial is
 *   `access_denied`; each audited (`SSO_LOGIN_REQUIRED`, `SSO_INTERACTION_REQUIRED`, the policy's reason).
 * - {@link ssoAtAuthorization}: any other request on a session: decided while oidc-provider answers it, once
 *   its interaction is saved (the login's id is the interaction's uid), and the browser sent straight to the
 *   resume, where the completion acts on the decision like a first login's (issue #14: one request less than
 *   through the interaction page). {@link ssoInteraction} decides at the interaction page instead when the
 *   resume does not complete logins yet (`federation.completeAtResume: false`) and for links from before.
 * - {@link standingOf}: the standing of one request, computed once however many checks ask.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import type { StoredAccount } from '../oidc/accounts.ts';
import { SSO_LOGIN_REASON, type PendingInteraction, type SilentAnswer } from '../oidc/session-reuse.ts';
import type { HeldClaim } from '../flow/login-flow.ts';
import type { Services } from '../services.ts';
import type { LoginOutcome } from '../session/login-context.ts';
import type { SessionEvidence } from '../session/session-evidence.ts';
import { deviceCookieKeys, deviceInRequest } from '../risk/device-cookie.ts';
import { acrRank, isAcr, type Acr } from '../translate/acr.ts';
import { minimumAcrOf, requestedAcrValues, requiredAcr } from '../translation/required-acr.ts';
import type { RequestContext } from '../translation/request-context.ts';
import { addRequested } from './grant-consent.ts';
import { endGrant, learnFrom } from './finish-login.ts';
import { linkGrantToLogin } from '../risk/grant-links.ts';
import { afterDecisionPath } from './resume-path.ts';
import { idpNoLongerVouches } from '../idps/idp-still-vouches.ts';
import { requestContextOf, translationPoint } from './translation-of.ts';

export interface Standing {
  clientId: string;
  accountId: string;
  account: Pick<StoredAccount, 'pivot' | 'idp'>;
  /** The upstream authentication this session stands on. */
  evidence: SessionEvidence;
  requiredAcr: Acr;
}

/** What the session says of itself (oidc-provider's Session: account, acr, `auth_time`). */
export interface SessionView {
  accountId?: string | undefined;
  acr?: string | undefined;
  loginTs?: number | undefined;
}

/** Whether the session may stand for this request (see the file comment); `null` sends the person upstream. */
export async function sessionStanding(
  services: Services,
  clientId: string,
  acrValues: unknown,
  session: SessionView,
  deviceId: string | null = null,
): Promise<Standing | null> {
  const { accountId, acr, loginTs } = session;
  if (typeof accountId !== 'string' || typeof acr !== 'string' || !isAcr(acr)) return null;
  const client = services.config.clients.find((c) => c.client_id === clientId);
  if (!client) return null;
  let required: Acr;
  try {
    required = requiredAcr(
      typeof acrValues === 'string' ? acrValues : undefined,
      client.default_acr_values,
      minimumAcrOf(services.config.federation.minimumAcr, client.minimum_acr),
    );
  } catch (error) {
    if (error instanceof GatewayError) return null; // an unknown acr: the login page refuses it with its code
    throw error;
  }
  if (acrRank(acr) < acrRank(required)) return null;
  const account = await services.accounts.load(accountId);
  if (!account || account.oneTimeUse === true) return null;
  // this session's own upstream authentication (the person may have others, on other devices), no older than a
  // session may live: an SSO login re-saves the evidence it stood on, which must not keep it usable for ever
  const oldest = Math.floor(Date.now() / 1000) - services.config.ttl.session;
  const candidates = (account.evidence ?? []).filter(
    (e) => e.acr === acr && e.authTime === loginTs && e.authTime > oldest && e.oneTimeUse !== true,
  );
  // (acr, auth_time) is not unique: two logins the IdP answered from one of its sessions share it (another browser
  // of the person, the same second). The one made on this request's device is this session's; else the first.
  const evidence = candidates.find((e) => deviceId !== null && e.deviceId === deviceId) ?? candidates[0];
  if (!evidence) return null;
  // the IdP named the RPs this assertion may reach (ProxyRestriction): another goes upstream, never through it
  if (evidence.onwardAudiences !== undefined && !evidence.onwardAudiences.includes(clientId)) return null;
  // the IdP must still vouch for this login: configured, not disabled by the operator (a compromised key), serving
  // this RP (`onlyClients`), at this level (its `maxLoa` may have been lowered since)
  if (idpNoLongerVouches(services.adapters.list(), evidence.idp, clientId, evidence.acr) !== null) return null;
  // the IdP ended the person's session with it (SessionNotOnOrAfter): nothing more stands on it
  if (evidence.sessionNotOnOrAfter !== undefined && Date.now() / 1000 >= evidence.sessionNotOnOrAfter) return null;
  // The account holds the pivot of the person's LAST login, maybe on another device at another level: the
  // login on this session is decided, and its tokens say, the identity and the level this session's own
  // authentication asserted (and the IdP it came from), never those of a login elsewhere (an earlier version's
  // record kept no identity with its evidence: the latest one, at this session's level).
  return {
    clientId,
    accountId,
    account: { pivot: evidence.pivot ?? { ...account.pivot, acr: evidence.acr }, idp: evidence.idp },
    evidence,
    requiredAcr: required,
  };
}

const standings = new WeakMap<object, Promise<Standing | null>>();

/** {@link sessionStanding} of an authorization request, once per request (the policy's checks, the gate). */
export function standingOf(ctx: KoaContextWithOIDC, services: Services): Promise<Standing | null> {
  let standing = standings.get(ctx);
  if (!standing) {
    standing = sessionStanding(
      services,
      ctx.oidc.client?.clientId ?? '',
      requestedAcrValues(ctx.oidc.params),
      ctx.oidc.session ?? {},
      deviceInRequest(ctx, deviceCookieKeys(services.config.secrets), services.config.cookies),
    );
    standings.set(ctx, standing);
  }
  return standing;
}

/**
 * Starts the login of an SSO request (INITIATED) and has the translation point decide it. `silent`: a
 * `prompt=none` login, decided and acted on in this request: its context and outcome are not written to Redis
 * for later requests (none will resume it; every transition is still audited and applied in the flow).
 */
export async function beginSsoLogin(
  services: Services,
  uid: string,
  standing: Standing,
  request: RequestContext,
  silent = false,
): Promise<LoginOutcome> {
  const { clientId, account, evidence, requiredAcr: acr } = standing;
  // held for this request; the translation point starts the login (INITIATED → FRAUD_CHECK in one chain), then
  // saves the context for later requests unless the login is acted on now
  await services.logins.holdForRequest({
    loginId: uid,
    clientId,
    requiredAcr: acr,
    idp: evidence.idp,
    stepUps: 0,
    requestId: request.requestId,
    sso: true,
  });
  // the login's behaviour vector, which its signals read (none was collected for a login on a session, but
  // a read is what tells): sent with the start's claim rather than in a round trip of its own (issue #14)
  services.fraud.behaviour.prefetch(uid);
  return translationPoint(services).decide(
    uid,
    { kind: 'session', accountId: standing.accountId, pivot: account.pivot, evidence },
    request,
    silent ? 'acted-on-now' : 'kept',
    { clientId, requestId: request.requestId, acrValues: [acr], component: 'sso' },
  );
}

/** A `prompt=none` request on a session: its login decided now (see the file comment). */
export async function silentSso(ctx: KoaContextWithOIDC, services: Services): Promise<SilentAnswer> {
  const { oidc } = ctx;
  const session = oidc.session;
  const client = oidc.client;
  if (!session || !client || !oidc.grant) return 'login_required';
  const params = (oidc.params ?? {}) as Record<string, unknown>;
  const standing = await standingOf(ctx, services);
  if (!standing) return 'login_required';
  // a transaction (RFC 9396) or a resource (RFC 8707) is consented to on a page: never silently, and never a
  // COMPLETED login whose code oidc-provider's consent prompt would then withhold
  if (params.authorization_details !== undefined || params.resource !== undefined) return 'interaction_required';
  const uid = `sso-${randomBytes(18).toString('base64url')}`;
  const request = requestContextOf(ctx, services, params, { issueDevice: false });
  const { requestId } = request;
  // acted on here and now: nothing is left for the completion step (no outcome kept in Redis)
  const outcome = await beginSsoLogin(services, uid, standing, request, true);
  if (outcome.status === 'rejected')
    return errorSpec(outcome.code).oauth === 'login_required' ? 'login_required' : 'access_denied';
  const translation = translationPoint(services);
  const { decision } = outcome;
  switch (decision.kind) {
    case 'allow': {
      // TOKEN_GENERATION, holding the login for COMPLETED (no claim call of its own): given back on failure
      const held = await translation.settle(uid, outcome, requestId);
      try {
        await completeNow(ctx, services, uid, requestId, outcome, standing, params, held);
      } catch (error) {
        if (held) await services.flow.release(uid, held);
        throw error;
      }
      return 'allow';
    }
    case 'step_up':
      await translation.refuse(uid, 'SSO_LOGIN_REQUIRED', 'policy', requestId);
      await services.logins.takeOutcome(uid);
      return 'login_required';
    case 'flag':
      await translation.refuse(uid, 'SSO_INTERACTION_REQUIRED', 'policy', requestId);
      await services.logins.takeOutcome(uid);
      await refused(services, uid);
      return 'interaction_required';
    case 'deny':
      await translation.settle(uid, outcome, requestId);
      await refused(services, uid);
      return 'access_denied';
    default: {
      const unknown: never = decision.kind;
      throw new GatewayError('INTERNAL', 500, 'unknown decision', { detail: String(unknown) });
    }
  }
}

/**
 * A `prompt=none` login allowed (TOKEN_GENERATION, `held` for COMPLETED): the identity and the grant stored,
 * then COMPLETED audited, before oidc-provider issues the code.
 */
async function completeNow(
  ctx: KoaContextWithOIDC,
  services: Services,
  uid: string,
  requestId: string,
  outcome: Extract<LoginOutcome, { status: 'verified' }>,
  standing: Standing,
  params: Record<string, unknown>,
  held: HeldClaim | undefined,
): Promise<void> {
  const { session, client, grant } = ctx.oidc;
  await services.accounts.save(
    outcome.accountId,
    { pivot: outcome.pivot, idp: outcome.idp, fraudScore: outcome.fraudScore },
    standing.evidence,
  );
  addRequested(grant!, params);
  const grantId = await grant!.save();
  session!.ensureClientContainer(client!.clientId);
  session!.grantIdFor(client!.clientId, grantId);
  // the identity and the grant, held by the authorization request (oidc/request-writes-together.ts), are
  // stored before the login is audited COMPLETED (the session follows when the request ends)
  await services.sessions.store.writeHeld();
  if ((await linkGrantToLogin(services.redis, grantId, uid, services.config.ttl.grant)) === 'late-deny') {
    // a late fraud verdict denied this login before it had a grant (risk/grant-links.ts)
    await endGrant(services, grantId);
    await services.flow.transition(uid, 'FAILED', {
      component: 'risk',
      errorCode: 'RISK_LATE_VERDICT',
      requestId,
      ...(held === undefined ? {} : { held }),
    });
    throw new errors.AccessDenied('the sign-in was refused');
  }
  // audited before oidc-provider issues the code: the trail is complete by the time the RP can redeem it
  await services.flow.transition(uid, 'COMPLETED', {
    component: 'oidc',
    requestId,
    ...(held === undefined ? {} : { held }),
    // the login learnt once COMPLETED is audited; its first read goes with the commit (one round trip less)
    alongCommit: () => learnFrom(services, uid, outcome.accountId),
  });
}

async function refused(services: Services, uid: string): Promise<void> {
  await services.fraud
    .refused(uid)
    .catch((err: unknown) => services.logger.warn({ err, loginId: uid }, 'ip reputation not updated'));
}

/**
 * An interactive request on a session (prompt `sso`, see the file comment), its interaction just saved by
 * oidc-provider: the login decided now and the resume returned, or `undefined` for the interaction page (the
 * hop kept, or a session that can no longer stand: the page then starts an upstream login).
 */
export async function ssoAtAuthorization(
  ctx: KoaContextWithOIDC,
  services: Services,
  interaction: PendingInteraction,
): Promise<string | undefined> {
  const { federation } = services.config;
  if (!federation.completeAtResume) return undefined;
  if (interaction.prompt.name !== 'sso' || !interaction.prompt.reasons.includes(SSO_LOGIN_REASON)) return undefined;
  const standing = await standingOf(ctx, services);
  if (!standing) return undefined;
  await beginSsoLogin(
    services,
    interaction.uid,
    standing,
    requestContextOf(ctx, services, interaction.params, { issueDevice: false }),
  );
  return afterDecisionPath(federation, interaction.uid);
}

type Details = Awaited<ReturnType<Services['holder']['provider']['interactionDetails']>>;

/**
 * The interaction of an SSO request (prompt `sso`): its login decided on the session instead of going
 * upstream, then on to the resume /auth/:uid, the same completion as a first login (allow, step-up,
 * WebAuthn, review, deny). Returns false when the session can no longer stand for the request (the caller
 * then starts an upstream login).
 */
export async function ssoInteraction(ctx: Context, services: Services, details: Details): Promise<boolean> {
  const uid = details.uid;
  const existing = await services.logins.load(uid);
  if (!existing) {
    const cookie = details.session?.cookie;
    const session = cookie ? await services.holder.provider.Session.find(cookie) : undefined;
    const standing = session
      ? await sessionStanding(
          services,
          String(details.params.client_id),
          requestedAcrValues(details.params),
          session,
          deviceInRequest(ctx, deviceCookieKeys(services.config.secrets), services.config.cookies),
        )
      : null;
    if (!standing) return false;
    await beginSsoLogin(
      services,
      uid,
      standing,
      requestContextOf(ctx, services, details.params, { issueDevice: false }),
    );
  } else if (existing.sso !== true) return false;
  ctx.status = 303;
  ctx.redirect(afterDecisionPath(services.config.federation, uid));
  return true;
}
