/**
 * Sends the browser to the chosen IdP: asks the adapter for a request at (at least) the required LoA,
 * remembers which login the RelayState belongs to, moves the login to AUTHENTICATING, and answers with
 * a redirect or an auto-posting form — or, for a step-up, a page that says why before the person goes on.
 *
 * A request that cannot be made now because a dependency is unavailable (the HSM busy signing it: `HSM_BUSY`
 * under the adapter's own signing-failure code; the key store closed by a drain) is the registry's 503 with
 * Retry-After, audited on the login (`AUTHN_REQUEST_UNSENT` with the code), and changes nothing else: the
 * login is still where it was, so the person retrying the same step goes on.
 */
import { servesClient } from '../idps/idp-clients.ts';
import type { Context } from 'koa';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { autoPostForm } from '../http/html.ts';
import { admitIdp } from '../ratelimit/scoped.ts';
import { deviceCookieKeys, knownDeviceInRequest } from '../risk/device-cookie.ts';
import { browserBinding } from '../session/browser-binding.ts';
import { upstreamRecordSeconds } from '../session/session-life.ts';
import type { Services } from '../services.ts';
import { acrRank, acrOfLoa, loaOfAcr } from '../translate/acr.ts';
import type { LoginContext } from '../session/login-context.ts';
import { FlowError } from '../flow/flow-error.ts';
import type { HeldClaim } from '../flow/login-flow.ts';
import { holdStatePuts } from '../store/redis-state-store.ts';
import type { LoginState } from '../flow/states.ts';
import { pickLanguage } from './chooser-i18n.ts';
import { stepUpPage } from './step-up-page.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';
import { refuseAnotherBrowser } from '../session/same-browser.ts';

/** A step-up is bound to the one request that asked for it: no other upstream login may start meanwhile. */
export function stepUpPending(): GatewayError {
  return new GatewayError(
    'STEP_UP_PENDING',
    409,
    'a stronger check is already under way for this sign-in; finish it, or start again from the service',
  );
}

/**
 * @param stepUpLevel set when the policy demanded a step-up: the request forces authentication and only
 * its own answer can satisfy the level.
 */
export async function startUpstream(
  ctx: Context,
  services: Services,
  login: LoginContext,
  idpId: string,
  stepUpLevel?: number,
): Promise<void> {
  const { config, adapters, flow, logins } = services;
  if (stepUpLevel === undefined && login.upstream?.stepUpLevel !== undefined) throw stepUpPending();
  const forceAuthn = stepUpLevel !== undefined || login.freshAuthRequired === true;
  const adapter = adapters.list().find((a) => a.id === idpId);
  // an IdP registered for other RPs only is, to this one, an IdP it does not know (idp-clients.ts)
  if (!adapter || !servesClient(adapter, login.clientId))
    throw new GatewayError('IDP_UNKNOWN', 400, 'unknown identity provider', { detail: idpId });
  if (acrRank(acrOfLoa(adapter.maxLoa)) < acrRank(login.requiredAcr)) {
    throw new GatewayError(
      'IDP_UNAVAILABLE',
      400,
      'this identity provider cannot reach the level the service requires',
      { detail: idpId },
    );
  }
  // The login is claimed for AUTHENTICATING with the IdP's rate-limit call (one round trip): a chosen IdP starts
  // from INITIATED or AUTHENTICATING (another IdP chosen after going back), a step-up only from FRAUD_CHECK (the
  // answer it asks again for; a chooser click never undoes an IdP's answer); the claim checks them (no read of the
  // login before it) and refuses with this page's code, before anything is signed. The IdP's own
  // rate (issue #15) is answered first: every AuthnRequest sent to it counts, before anything is signed.
  const from = stepUpLevel === undefined ? CHOSEN_FROM : STEP_UP_FROM;
  // a login that went upstream before goes on only from its browser (session/same-browser.ts): a browser refused
  // on what this request read (no round trip) takes nothing, not even a token of the IdP's bucket; checked again
  // below on the context a claim from AUTHENTICATING reads afresh (a leg another request committed meanwhile: that
  // refusal comes after the bucket was taken)
  await refuseAnotherBrowser(ctx, services, login.loginId, login.browserBinding, 'upstream-start');
  const claiming = flow.tryClaim(login.loginId, 'AUTHENTICATING', { refuse: refuseStart, from });
  // a browser that completed a login before (a valid device cookie: issued only after an IdP's verified answer)
  // takes its device's share of the IdP's requests; one without takes the new browsers' (rateLimit.perIdp)
  const device = knownDeviceInRequest(ctx, deviceCookieKeys(services.config.secrets), services.config.cookies);
  const [limiting, claim] = await Promise.allSettled([admitIdp(ctx, idpId, 'request', device), claiming]);
  // tryClaim answers its refusal; a rejection here is a fault of its own, handled like a refusal
  const claimed = claim.status === 'fulfilled' ? claim.value : { error: claim.reason };
  const held = 'held' in claimed ? claimed.held : undefined;
  const giveBack = () => (held ? flow.release(login.loginId, held) : Promise.resolve());
  if (limiting.status === 'rejected') {
    await giveBack();
    throw limiting.reason;
  }
  if (limiting.value) {
    await giveBack();
    throw new GatewayError('RATE_LIMITED', 429, 'too many sign-ins through this identity provider right now', {
      detail: idpId,
    });
  }
  // Another request of this login holds it (a double click, a reload while the first request is signing): this
  // one goes on as it did before the claim went ahead of the signature, and claims at its transition, by when the
  // other has committed (AUTHENTICATING may follow AUTHENTICATING: the last request sent is the one answered;
  // claimWhenFree refuses it if the other request moved the login anywhere else).
  if (!held && !isBusy(claimed)) throw (claimed as { error: unknown }).error;
  // A login claimed from AUTHENTICATING was moved since this request read its context (memoised, maybe before a
  // slow form upload): another click, or a step-up begun meanwhile. The context is read again (one GET, only on
  // that path) and the request goes on only if it still asks for what this one was made for; it is written from
  // the context just read, never from this request's copy.
  let base = login;
  let binding: string;
  try {
    if (held?.record.state === 'AUTHENTICATING')
      base = await confirmedFor(services, login, stepUpLevel, 'AUTHENTICATING');
    // a login that went upstream before (a step-up, another IdP chosen) goes on only from the browser it did so
    // from: its interaction cookie, path-scoped and so never `__Host-`, could have been planted in another
    // (session/same-browser.ts). Its first leg binds it, to the browser that chooses the IdP. Checked above on
    // this request's copy; here on the context read afresh.
    if (base !== login) await refuseAnotherBrowser(ctx, services, login.loginId, base.browserBinding, 'upstream-start');
    // may throw (a secure cookie over what koa sees as plain HTTP): the claim is given back like any refusal here
    binding = browserBinding(ctx, config.secrets.browserBindingKey, config.cookies, 'start', {
      seconds: upstreamRecordSeconds(config.ttl),
      extend: true,
    });
  } catch (error) {
    await giveBack();
    throw error;
  }
  let start: Awaited<ReturnType<typeof adapter.startLogin>>;
  // what the adapter keeps for the answer (its pending request) is held, and written with the commit below
  let sendKept: () => Promise<void>;
  try {
    ({ value: start, send: sendKept } = await holdStatePuts(() =>
      adapter.startLogin({
        loginId: login.loginId,
        browserBinding: binding,
        minimumLoa: loaOfAcr(login.requiredAcr),
        forceAuthn,
        ...(login.maxAge === undefined ? {} : { maxAuthenticationAgeSeconds: login.maxAge }),
      }),
    ));
  } catch (error) {
    await giveBack();
    throw await unsent(ctx, services, login.loginId, idpId, error);
  }
  // the opaque value the IdP's answer carries back: the answer finds this login under it (upstream-answer.ts)
  if (!start.correlation) {
    await giveBack();
    throw new GatewayError('INTERNAL', 500, 'adapter returned no correlation value', { detail: idpId });
  }
  const upstream = {
    issuedAt: Date.now(),
    forceAuthn,
    request: start.request,
    ...(stepUpLevel === undefined ? {} : { stepUpLevel }),
  };
  const correlation = start.correlation;
  // Audited, then moved; what the adapter keeps, the RelayState and the context are written with the commit (one
  // round trip), once the transition's audit record is: a login refused here leaves none of them behind and sends
  // no request upstream; one whose writes failed after the commit is AUTHENTICATING, from which the person's retry
  // of this step starts again
  let holding = held;
  if (!holding) {
    ({ held: holding, base } = await claimWhenFree(services, login, from, stepUpLevel));
    // a login that had gone upstream before this request read it: checked again on the context the request it
    // waited for left (a first leg's double click, whose second request has no binding cookie yet, goes on)
    if (login.browserBinding !== undefined) {
      try {
        await refuseAnotherBrowser(ctx, services, login.loginId, base.browserBinding, 'upstream-start');
      } catch (error) {
        await flow.release(login.loginId, holding);
        throw error;
      }
    }
  }
  await flow.transition(login.loginId, 'AUTHENTICATING', {
    held: holding,
    alongCommit: () =>
      Promise.all([
        sendKept(),
        logins.saveRelay(correlation, login.loginId, idpId),
        logins.save({ ...base, idp: idpId, browserBinding: binding, upstream }),
      ]),
    component: `adapter:${idpId}`,
    requestId: ctx.state.requestId as string,
    details: {
      idp: idpId,
      forceAuthn,
      requiredAcr: login.requiredAcr,
      ...(stepUpLevel === undefined ? {} : { stepUpLevel }),
    },
  });
  ctx.set('Cache-Control', 'no-store');
  if (stepUpLevel !== undefined) {
    // a step-up explains itself before the person is sent upstream again (step-up-page.ts)
    const lang = pickLanguage(ctx, config.cookies.secure);
    ctx.set('Content-Language', lang);
    ctx.type = 'html';
    ctx.body = stepUpPage(lang, adapter.displayName, stepUpLevel >= 2, start);
    return;
  }
  if (start.binding === 'redirect') {
    ctx.redirect(start.url);
    return;
  }
  ctx.type = 'html';
  ctx.body = autoPostForm(start.url, start.fields);
}

/** This page's refusal of a login whose state cannot start an upstream authentication (none: `null`). */
function refuseStart(state: LoginState | null): GatewayError {
  return new GatewayError('LOGIN_STATE_INVALID', 400, 'this login cannot start an upstream authentication now', {
    detail: String(state ?? undefined),
  });
}

/** The claim refused only because another request of the same login holds it now. */
function isBusy(claimed: { error: unknown } | object): boolean {
  return 'error' in claimed && claimed.error instanceof FlowError && claimed.error.refusal === 'BUSY';
}

/** How long a request met by another request's claim waits for it, at most, and before its first retry (doubled each time). */
const BUSY_WAIT_MS = 2_000;
const BUSY_FIRST_RETRY_MS = 25;

/** A login whose person chose (or was sent to) an IdP: not yet answered upstream. */
const CHOSEN_FROM: readonly LoginState[] = ['INITIATED', 'AUTHENTICATING'];
/** A step-up: the risk pipeline has just decided on the upstream answer. */
const STEP_UP_FROM: readonly LoginState[] = ['FRAUD_CHECK'];

/**
 * The claim of a request refused because another request of the login held it (signing its own AuthnRequest: a
 * few milliseconds): tried again, backing off, until that request has committed, for up to BUSY_WAIT_MS. The
 * other request may have been anything that moves the login: the login's context is read again once claimed, and
 * the request goes on only if it still stands where this one's AuthnRequest was made for — same level, same
 * freshness, no step-up begun meanwhile (a chooser click) — else the claim is given back and the request refused
 * (`LOGIN_STATE_INVALID`). An answer of the IdP that moved the login on (FRAUD_CHECK) is never undone: that state
 * is not a source of this request's claim. A refused try audits nothing.
 */
async function claimWhenFree(
  services: Services,
  login: LoginContext,
  from: readonly LoginState[],
  stepUpLevel: number | undefined,
): Promise<{ held: HeldClaim; base: LoginContext }> {
  const { flow } = services;
  const until = Date.now() + BUSY_WAIT_MS;
  for (let pause = BUSY_FIRST_RETRY_MS; ; pause *= 2) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(pause, until - Date.now()))));
    const claimed = await flow.tryClaim(login.loginId, 'AUTHENTICATING', { refuse: refuseStart, from });
    if ('held' in claimed) {
      try {
        const base = await confirmedFor(services, login, stepUpLevel, claimed.held.record.state);
        return { held: claimed.held, base };
      } catch (error) {
        await flow.release(login.loginId, claimed.held);
        throw error;
      }
    }
    if (!isBusy(claimed) || Date.now() >= until) throw claimed.error;
  }
}

/**
 * The login's context read again (past the request's memo) once this request holds the login, checked with
 * {@link stillFor}: what the request writes is built on it (a step-up's own context, the caller's, is kept: it is
 * the one read just now with the step-up's count and level). Refused `LOGIN_STATE_INVALID` when the login no longer
 * asks for this request; the caller gives its claim back.
 */
async function confirmedFor(
  services: Services,
  signedFor: LoginContext,
  stepUpLevel: number | undefined,
  state: LoginState,
): Promise<LoginContext> {
  const now = await services.logins.reload(signedFor.loginId);
  if (!now || !stillFor(now, signedFor, stepUpLevel)) throw refuseStart(state);
  return stepUpLevel === undefined ? now : signedFor;
}

/**
 * Whether the login's context, read again, still asks what this request's AuthnRequest was made for: a chosen IdP
 * at the same level and freshness with no step-up begun (or made) meanwhile; a step-up the only one on this
 * upstream answer.
 */
function stillFor(now: LoginContext, signedFor: LoginContext, stepUpLevel: number | undefined): boolean {
  if (stepUpLevel !== undefined) return now.stepUps === signedFor.stepUps - 1;
  return (
    now.stepUps === signedFor.stepUps &&
    now.requiredAcr === signedFor.requiredAcr &&
    now.freshAuthRequired === signedFor.freshAuthRequired &&
    now.maxAge === signedFor.maxAge &&
    now.upstream?.stepUpLevel === undefined
  );
}

/** A request not made: a dependency unavailable is audited and becomes its registry error; anything else as is. */
async function unsent(ctx: Context, services: Services, loginId: string, idpId: string, error: unknown) {
  const code = unavailableCodeWithin(error);
  if (code === undefined) return error;
  const requestId = ctx.state.requestId as string;
  services.logger.warn({ err: error, code, loginId, idp: idpId, requestId }, 'AuthnRequest not sent now');
  await services.audit.append({
    sessionId: loginId,
    from: null,
    to: 'AUTHN_REQUEST_UNSENT',
    component: `adapter:${idpId}`,
    errorCode: code,
    requestId,
    details: { idp: idpId },
  });
  return new GatewayError(code, errorSpec(code).status, 'The sign-in cannot continue now; retry in a moment.', {
    cause: error,
  });
}
