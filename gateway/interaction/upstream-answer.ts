/**
 * The generic "upstream answered" path: an adapter's `login-response` route (an assertion consumer service, an OAuth redirect
 * URI) received the IdP's answer to a login. The route's correlation value (the opaque value of `LoginStart`,
 * e.g. RelayState) says which adapter and login the answer belongs to; that adapter verifies the message
 * completely; then the translation point runs (translate → risk → policy). The browser is sent on to
 * oidc-provider's resume, /auth/:uid, where the resume cookie lives: the completion step runs there and the
 * RP gets its code in that same request (resume-completion.ts).
 *
 * The IdP's and the identity's rate limits are taken once the message is verified (ratelimit/scoped.ts): the
 * IdP's counts only the responses it really sent; a refusal fails the login with RATE_LIMITED (the RP: temporarily_unavailable).
 *
 * A rejected message is audited with its code and never yields a token. When the login is known the RP
 * is told `access_denied` (with its state and iss); otherwise the browser gets the error page, with the status
 * the error registry gives the code.
 */
import type { Context } from 'koa';
import { AdapterError, type UpstreamIdentity } from '../../adapters/contract.ts';
import type { LoginResponseRoute } from '../../adapters/contract/routes.ts';
import { errorSpec } from '../error-registry.ts';
import { GatewayError, type ErrorCode } from '../errors.ts';
import { admitIdentity, admitIdp, markFailed, mayGiveDevice } from '../ratelimit/scoped.ts';
import { accountIdOf } from '../oidc/pairwise.ts';
import { deviceCookieKeys, knownDeviceInRequest, type DeviceClass } from '../risk/device-cookie.ts';
import { toPivotIdentity } from '../translate/to-pivot.ts';
import { afterDecisionPath } from '../completion/resume-path.ts';
import { bindingKeys, browserBindings } from '../session/browser-binding.ts';
import type { Services } from '../services.ts';
import { translateAndDecide } from './translate-and-decide.ts';
import { answerUnavailableAtAcs, failLogin, unavailableCodeWithin, unavailableError } from './unavailable-mid-login.ts';
import { recordUpstreamLogin } from './upstream-session-records.ts';

/** What the adapter is given when the browser sent no binding cookie: never a login's own binding. */
const NO_BINDING = 'no-binding-cookie';

/**
 * @param params the answer's form fields or query parameters, already size-limited and without duplicates
 */
export async function upstreamAnswered(
  ctx: Context,
  services: Services,
  route: LoginResponseRoute,
  params: Record<string, string>,
): Promise<void> {
  const component = `upstream:${route.path}`;
  const correlation = route.correlation(params);
  const target = correlation === undefined ? null : await services.logins.loadRelay(correlation);
  if (!target) return reject(ctx, services, route.codes.correlationInvalid, undefined, component);
  // sent with the adapter's first Redis write (its replay check): one round trip (read only once the response
  // names this login); the login's behaviour vector too, which its risk assessment reads (issue #14)
  services.logins.prefetch(target.loginId);
  services.fraud.behaviour.prefetch(target.loginId);
  let adapter;
  try {
    adapter = services.adapters.get(target.idp);
  } catch {
    return reject(ctx, services, 'IDP_UNKNOWN', target.loginId, component);
  }
  // this browser's binding, and the same cookie's under the keys used before a rotation (a login sent upstream
  // before it still finishes here)
  const bindings = browserBindings(ctx, bindingKeys(services.config.secrets), services.config.cookies);
  const binding = bindings[0] ?? NO_BINDING;
  // a refusal below is answered by `reject`; a dependency's 503 met on the way by `answerUnavailableAtAcs`
  let refusing = false;
  let giveBack = (): Promise<void> => Promise.resolve();
  let verified: string | undefined;
  const refuse = (code: ErrorCode, loginId: string | undefined, where: string): Promise<void> => {
    refusing = true;
    return reject(ctx, services, code, loginId, where);
  };
  try {
    let result;
    try {
      result = await adapter.finishLogin({
        method: ctx.method,
        params,
        browserBinding: binding,
        earlierBrowserBindings: bindings.slice(1),
      });
    } catch (error) {
      if (error instanceof AdapterError) {
        // an adapter's own code over a dependency gone away (its replay or pending-request store: Redis failing
        // over) is refused with the dependency's code: a 503, the RP told `temporarily_unavailable` (issue #15)
        const code = unavailableCodeWithin(error) ?? error.code;
        services.logger.warn(
          { code, adapterCode: error.code, detail: error.detail, loginId: error.loginId, idp: target.idp },
          'upstream response rejected',
        );
        const ofThisBrowser = () => sameBrowserLogin(services, target.loginId, bindings).catch(() => undefined);
        // an answer already consumed fails no login: the post that consumed it may be this login's own, still
        // going on (a double submit), and its refusal racing that post's claim must not end the person's login
        if (code === route.codes.replayed && error.loginId === undefined) {
          refusing = true; // an audit failure below is no dependency outage of the login's: nothing fails it
          return reject(ctx, services, code, await ofThisBrowser(), `adapter:${target.idp}`, false);
        }
        return refuse(code, error.loginId ?? (await ofThisBrowser()), `adapter:${target.idp}`);
      }
      throw error;
    }
    // The IdP's own rate (issue #15) counts the responses it caused: verified ones only. A stranger's junk posted
    // with a live RelayState is refused by the adapter without touching it (before, each post took a token, and
    // a flood of junk from many addresses refused every genuine answer of that IdP); junk is bounded by the
    // address, failures and global buckets the middleware took. Per identity (issue #15): the account, hashed; its
    // failures bucket too (credential stuffing). The answer's own login is claimed for FRAUD_CHECK
    // with those calls (one round trip, issue #14); given back below whenever the login does not go on to its
    // decision (a refusal then fails it: FAILED needs no claim of ours).
    const ownLogin = result.loginId === target.loginId;
    // the identity is the account (its pivot identity's): a transient NameID is a fresh one at every login, and a
    // person may come through several IdPs; an answer whose identity is no valid pivot (the translation refuses it)
    // by its IdP and NameID
    const account = accountOfAnswer(services, result.identity);
    const identityKey =
      account === undefined ? `nameid\n${result.identity.idp}\n${result.identity.subject}` : `account\n${account}`;
    const [idpOutcome, limitedOutcome, claimOutcome] = await Promise.allSettled([
      admitIdp(ctx, target.idp, 'response'),
      admitIdentity(ctx, identityKey),
      ownLogin ? services.flow.tryClaim(result.loginId, 'FRAUD_CHECK') : undefined,
    ]);
    const claim = claimOutcome.status === 'fulfilled' ? claimOutcome.value : { error: claimOutcome.reason };
    if (claim && 'held' in claim) {
      const { held } = claim;
      giveBack = () => services.flow.release(result.loginId, held);
    }
    // the rate limiter's own failure (a dependency down) is answered like any other, the claim given back first
    if (idpOutcome.status === 'rejected') throw idpOutcome.reason;
    if (limitedOutcome.status === 'rejected') throw limitedOutcome.reason;
    if (idpOutcome.value || limitedOutcome.value) {
      await giveBack();
      return refuse('RATE_LIMITED', result.loginId, component);
    }
    if (!ownLogin) return refuse(route.codes.loginMismatch, result.loginId, `adapter:${target.idp}`);
    verified = result.loginId;
    // ProxyRestriction Audience: the IdP named the relying parties that may receive a token from this assertion
    const onward = result.identity.evidence.onwardAudiences;
    if (onward !== undefined) {
      const login = await services.logins.load(result.loginId);
      if (!login || !onward.includes(login.clientId)) {
        await giveBack();
        return refuse('UPSTREAM_AUDIENCE_EXCLUDES_RP', result.loginId, 'interaction');
      }
    }
    // the claim refused (the login timed out, moved on, or Redis did not answer): as its transition would be
    if (claim && 'error' in claim) throw claim.error;
    // Its NameID and SessionIndex, kept for Single Logout with the IdP (upstream-session-records.ts), are written
    // only for an answer past every refusal above (a refused answer must leave nothing for an IdP logout to
    // find), beside the decision: a record kept for a login the decision refuses or fails is never
    // linked to a session.
    const recording = settledOf(
      recordUpstreamLogin(services, result.loginId, result.identity, binding === NO_BINDING ? undefined : binding),
    );
    const issueDevice = await deviceClassFor(ctx, services, account);
    // the login decided, beside the upstream session's record: either failing fails the answer as before. Both
    // are waited for before a failure is answered: the answer moves the login (FAILED), which must not race the
    // decision's own transition still in flight.
    const [decided, recorded] = await Promise.allSettled([
      translateAndDecide(ctx, services, result.loginId, result.identity, { held: claim?.held, issueDevice }),
      recording,
    ]);
    if (decided.status === 'rejected') throw decided.reason;
    if (recorded.status === 'fulfilled' && recorded.value?.status === 'rejected') throw recorded.value.reason;
    ctx.status = 303;
    ctx.redirect(afterDecisionPath(services.config.federation, result.loginId));
  } catch (error) {
    // a claim still held (the decision never reached its transition) is given back before anything else moves
    // the login; after its transition this finds nothing to give back
    await giveBack();
    const code = refusing ? undefined : unavailableCodeWithin(error);
    if (code === undefined) {
      // A fault of ours once the answer was verified (its decision kept, or the upstream session's record not
      // written): the login is failed, so a reload cannot finish it without what this request did not write
      // (a session the IdP's logout could not end); a reload tells the RP `server_error`. The error page answers.
      if (!refusing && verified !== undefined) await failVerified(ctx, services, verified, component);
      throw error;
    }
    // attributed like a refusal: the verified login, else the RelayState's when it is this browser's
    const loginId = verified ?? (await sameBrowserLogin(services, target.loginId, bindings).catch(() => undefined));
    services.logger.warn({ code, loginId, idp: target.idp }, 'upstream answer met an unavailable dependency');
    if (loginId === undefined || !(await answerUnavailableAtAcs(ctx, services, loginId, code, component)))
      throw unavailableError(error, code);
  }
}

/** A verified answer's login failed by a fault of ours (`INTERNAL`); best effort: the sweeper times it out else. */
async function failVerified(ctx: Context, services: Services, loginId: string, component: string): Promise<void> {
  if ((await failLogin(ctx, services, loginId, 'INTERNAL', component)) !== 'failed') return;
  await services.logins
    .saveOutcome(loginId, { status: 'rejected', code: 'INTERNAL' })
    .catch((err: unknown) =>
      services.logger.warn({ err, loginId }, 'the RP could not be told: the error page answers'),
    );
}

/** A promise's outcome, never a rejection (started early, looked at later: no unhandled rejection meanwhile). */
function settledOf<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }) as const,
    (reason: unknown) => ({ status: 'rejected', reason }) as const,
  );
}

/**
 * A message that failed before its InResponseTo could be trusted is still attributed to the login its
 * RelayState names when it arrives in the browser that started that login (same binding cookie): the RP
 * then learns the login failed. From any other browser it is not attributed (no one can fail, or learn
 * about, someone else's login). An answer already consumed (the route's `replayed` code) fails no login, whatever
 * the browser: the post that consumed it may be this login's own (`reject`).
 */
async function sameBrowserLogin(
  services: Services,
  loginId: string,
  bindings: readonly string[],
): Promise<string | undefined> {
  const login = await services.logins.load(loginId);
  return login?.browserBinding !== undefined && bindings.includes(login.browserBinding) ? loginId : undefined;
}

/**
 * A refused answer: its login (when known) is failed with the code and the browser sent to its resume, where the RP
 * is told; else the refusal is audited `REJECTED` and answered with its page. `failsLogin: false` (an answer already
 * consumed, the route's `replayed` code): audited under its login, answered with the page, and no login moved. Not
 * sent on to the login's resume either: two resumes of one login racing its decision can lose its outcome (the one
 * that takes it without the claim), which a duplicate sent there made likely (a test saw four duplicates end with no
 * code at all).
 */
async function reject(
  ctx: Context,
  services: Services,
  code: ErrorCode,
  loginId: string | undefined,
  component: string,
  failsLogin = true,
): Promise<void> {
  const requestId = ctx.state.requestId as string;
  services.metrics.upstreamRejected(code);
  // a refused answer charges the failures buckets, 303 or not; a dependency gone away (a 503 code: Redis failing
  // over) is no failure of the person's, and charges nothing
  if (code !== 'RATE_LIMITED' && errorSpec(code).status !== 503) markFailed(ctx);
  const record = loginId && failsLogin ? await services.flow.get(loginId).catch(() => null) : null;
  if (loginId && record && !['COMPLETED', 'FAILED', 'DENIED'].includes(record.state)) {
    // the login failed with the code; when it cannot be now (another request holds it, or its state does not go
    // to FAILED), the refusal is still audited, below, and answered with its page
    const failed = await services.flow.transition(loginId, 'FAILED', { component, errorCode: code, requestId }).then(
      () => true,
      (error: unknown) => {
        services.logger.warn({ err: error, loginId, code }, 'refused answer: its login not failed now');
        return false;
      },
    );
    if (failed) {
      await services.logins.saveOutcome(loginId, { status: 'rejected', code });
      ctx.status = 303;
      ctx.redirect(afterDecisionPath(services.config.federation, loginId));
      return;
    }
  }
  await services.audit.append({
    sessionId: loginId ?? `request:${requestId}`,
    from: null,
    to: 'REJECTED',
    component,
    errorCode: code,
    requestId,
  });
  // the page answers with the code's registry status (RATE_LIMITED 429, a refusal 400, an IdP unavailable 503,
  // a fault of ours 500 — whose code the error handler does not expose), never a blanket 400
  if (code === 'RATE_LIMITED') throw new GatewayError(code, 429, 'Too many requests; retry in a moment.');
  throw new GatewayError(code, errorSpec(code).status, 'The answer from the identity provider was refused.');
}

/**
 * The account an IdP's verified answer is of (the translation point's own, from the pivot identity: the same through
 * every IdP and whatever the NameID); undefined when the identity is not a valid pivot (the translation refuses it).
 */
function accountOfAnswer(services: Services, identity: UpstreamIdentity): string | undefined {
  try {
    return accountIdOf(toPivotIdentity(identity), services.config.secrets.pairwiseSalt);
  } catch (error) {
    if (error instanceof GatewayError) return undefined;
    throw error;
  }
}

/**
 * The class of device cookie this login gives a browser without a laned one (risk/device-cookie.ts): `laned` within
 * its account's share (`rateLimit.perIdentityNewDevices`), `risk-only` past it, so one real account cannot collect
 * room in the known-device lanes by the thousand. Asked only once the answer passed every refusal of the ACS (a
 * refused retry takes nothing from the person's share). By account (the pivot identity's), not by NameID: a transient
 * NameID is a fresh one at every login, and a person may come through several IdPs. The limiter's own failure gives
 * a risk-only one: the login goes on, its device still known to the risk checks.
 */
async function deviceClassFor(ctx: Context, services: Services, account: string | undefined): Promise<DeviceClass> {
  const keys = deviceCookieKeys(services.config.secrets);
  if (knownDeviceInRequest(ctx, keys, services.config.cookies) !== null) return 'laned';
  if (account === undefined) return 'risk-only';
  const laned = await mayGiveDevice(ctx, `account\n${account}`).catch(() => false);
  return laned ? 'laned' : 'risk-only';
}
