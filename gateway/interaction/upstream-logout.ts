/**
 * Single Logout with the upstream IdPs at the gateway (issue #12 item 6), for any protocol: the protocol declares
 * its logout door (a `logout` route, `adapters/contract/routes.ts`) and each adapter its capability
 * (`UpstreamAdapter.logout`, offered or explicitly not); the sessions are `session/upstream-sessions.ts` and the
 * revocation API. Only typed records cross: `UpstreamSessionRef` out, `UpstreamLogoutRequest` in, `FrontChannel`
 * (or an `AnsweredLogoutRefusal`) back to the browser.
 *
 * | where                                   | what |
 * |-----------------------------------------|------|
 * | a `logout` route, `direction` request   | IdP-initiated: the adapter its message names verifies it; the sessions it names are revoked (the RPs told over the back channel); its signed answer goes back by the IdP's binding. A refusal is audited with its code and ends nothing: answered to the IdP when the adapter says so (`AnsweredLogoutRefusal`, a non-success status), else the error page with the status the error registry gives its code. A dependency unavailable on the way (the HSM busy signing the answer: `HSM_BUSY` under the adapter's own signing-failure code) is no refusal: its registry 503 with Retry-After, audited with that code (`UPSTREAM_LOGOUT_UNANSWERED` once sessions were ended, `UPSTREAM_LOGOUT_UNAVAILABLE` before). The same request sent again after an unanswered one gets the kept answer, nothing ended: `UPSTREAM_LOGOUT_ANSWERED_ON_RETRY` |
 * | a `logout` route, `direction` response  | the IdP's answer to our logout request: verified and audited (a failure with its own code); the browser then goes where oidc-provider sent it, the local logout staying done. The way back unreadable (Redis failing: `FLOW_STORE_UNAVAILABLE`, 503; a value we never wrote: `INTERNAL`, 500) is refused, audited `UPSTREAM_LOGOUT_FAILED` with the code |
 * | oidc-provider `end_session_confirm`     | RP-initiated logout (`upstreamLogoutInProvider`, a provider middleware): once the gateway session is destroyed, the browser is sent to the IdP with our signed logout request; an IdP that takes no part is skipped, audited with its adapter's `notOfferedCode`; a request it cannot sign now is skipped too, audited with the cause (`HSM_BUSY`, not the adapter's signing-failure code) |
 * | oidc-provider `resume`                  | the same middleware links the login's upstream session to the gateway session it went into |
 * | the login-response route (`recordUpstreamLogin`) | the subject, format and session index of each verified login, kept sealed |
 *
 * Order of an IdP-initiated logout: verify, **end the sessions, then sign the answer**. Ending them is the
 * security-relevant act and must not hang on the HSM. Signing first would leave them alive whenever the signature
 * fails. So when the answer cannot be signed (HSM busy: 503 + Retry-After; another signing fault: 500), the
 * sessions stay ended and the audit says so: `UPSTREAM_LOGOUT_UNANSWERED` with the code, `sessions`, `attempt`
 * and `kept` (never `UPSTREAM_LOGOUT_REFUSED`, which means nothing was ended). No answer goes back: any answer, a
 * partial-logout status included, needs the signature that just failed (the Single Logout profile: the responder
 * signs), and a partial-logout status (the core spec, §3.7.3.2) is what a session authority reports about *other*
 * participants, not a participant's own state.
 *
 * The retry the Retry-After invites gets the answer (the adapter kept what it needs to sign it again, beside
 * the request's replay key for as long as the request may pass its time window: `UpstreamLogout.answerLogout`
 * in the contract):
 *
 * | the same request sent again                          | outcome | audit |
 * |------------------------------------------------------|---------|-------|
 * | its answer was not signed, and it passes every check again (signature, issuer, destination, time window; same signed values and relay value) | the kept answer signed now; **no session ended** (one opened since survives) | `UPSTREAM_LOGOUT_ANSWERED_ON_RETRY`, `sessions` (ended by the first attempt), `endedNow: 0` |
 * | the same, and the HSM busy again                     | 503 + Retry-After again, the answer kept again | `UPSTREAM_LOGOUT_UNANSWERED`, `attempt: 'retry'`, `endedNow: 0` |
 * | its answer was signed but its audit record could not be written | not sent; kept again (`LogoutAnswer.keep`), the audit's error (500/503) | none (the audit failing) |
 * | the store failing as the retry takes the kept answer, or a kept value that is not the adapter's | refused, the page, 500 | `UPSTREAM_LOGOUT_REFUSED` with the adapter's internal-error code |
 * | its answer was signed and sent (or nothing kept: the store refused it, `kept: false`) | a replay, the page, 400 | `UPSTREAM_LOGOUT_REFUSED` with its adapter's replay code |
 * | fails a check, or other signed values / relay value under the same ID | refused with that check's code (a replay for another message under the ID); the kept answer stays | `UPSTREAM_LOGOUT_REFUSED` |
 *
 * Two copies at once: one takes the kept answer, the other is a replay. Without an answer at all (the retries
 * exhausted, the window passed), the IdP counts us as unconfirmed and reports a partial logout to its own
 * requester: true, since our sessions are ended but we never confirmed it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { z } from 'zod';
import {
  AdapterError,
  AnsweredLogoutRefusal,
  UnansweredLogout,
  type InboundLogoutMessage,
  type FrontChannel,
  type LogoutAnswer,
  type UpstreamAdapter,
  type UpstreamIdentity,
  type UpstreamLogout,
} from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { errorSpec } from '../error-registry.ts';
import { GatewayError, type ErrorCode } from '../errors.ts';
import { autoPostForm } from '../http/html.ts';
import { readForm } from '../http/read-form.ts';
import { markFailed } from '../ratelimit/scoped.ts';
import type { Services } from '../services.ts';
import { UpstreamSessions } from '../session/upstream-sessions.ts';
import { mayHaveUpstreamLogin } from '../completion/finish-login.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';

/** How long the way back from the IdP is kept (as long as our logout request may be answered). */
const RETURN_TTL_SECONDS = 600;

type Deps = Pick<Services, 'adapters' | 'sessions' | 'redis' | 'audit' | 'logger' | 'metrics' | 'config'>;

const upstreamSessions = (services: Deps) =>
  new UpstreamSessions({
    store: services.sessions.store,
    revoker: services.sessions.revoker,
    ttlSeconds: services.config.ttl.session,
  });

/**
 * A request to a protocol's `logout` route (upstream-routes.ts dispatches it here): the message as received
 * (form or query; the raw query kept, for signatures over it), then by its direction.
 *
 * @example
 * case 'logout': return upstreamLogout(ctx, services, route);
 */
export async function upstreamLogout(ctx: Context, services: Deps, route: LogoutRoute): Promise<void> {
  const message: InboundLogoutMessage =
    route.method === 'POST'
      ? { method: 'POST', params: await readForm(ctx, route.maxBodyBytes) }
      : {
          method: 'GET',
          params: Object.fromEntries(new URLSearchParams(ctx.querystring)),
          rawQuery: ctx.querystring,
        };
  let direction: 'request' | 'response';
  try {
    direction = route.direction(message.params);
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_REFUSED', undefined, error);
    throw refusal(error, 'The logout message was refused.');
  }
  if (direction === 'response') return logoutResponse(ctx, services, route, message);
  return logoutRequest(ctx, services, route, message);
}

type OfferingAdapter = UpstreamAdapter & { logout: UpstreamLogout };

/** The adapter whose IdP a logout message names (unverified: the adapter then verifies everything). */
function adapterFor(services: Deps, route: LogoutRoute, message: InboundLogoutMessage): OfferingAdapter {
  for (const adapter of services.adapters.list()) {
    if (adapter.logout.offered && adapter.logout.names(message)) return adapter as OfferingAdapter;
  }
  throw new AdapterError(route.codes.issuerUnknown, 'No identity provider of ours sent this logout.', {
    detail: 'no adapter names the sender',
  });
}

/**
 * The page's error for a refused logout message: its code with the status the error registry gives it (a 400 for
 * a refused message; 503 for an unavailable IdP; 500 for an internal or configuration fault, whose code the error
 * handler then does not expose), never a blanket 400.
 */
function refusal(error: AdapterError, message: string): GatewayError {
  return new GatewayError(error.code, errorSpec(error.code).status, message, {
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    cause: error,
  });
}

/** Audits, counts and logs a refused logout message. */
async function refused(
  ctx: Context,
  services: Deps,
  to: 'UPSTREAM_LOGOUT_REFUSED' | 'UPSTREAM_LOGOUT_FAILED',
  idp: string | undefined,
  error: AdapterError | GatewayError,
  details: Record<string, unknown> = {},
): Promise<void> {
  await audit(ctx, services, to, idp, error.code, { ...details, detail: error.detail });
  services.metrics.upstreamRejected(error.code);
  services.logger.warn({ code: error.code, detail: error.detail, idp }, 'IdP logout message refused');
}

async function logoutRequest(
  ctx: Context,
  services: Deps,
  route: LogoutRoute,
  message: InboundLogoutMessage,
): Promise<void> {
  let adapter: OfferingAdapter | undefined;
  let ended = 0;
  let answer: LogoutAnswer;
  try {
    adapter = adapterFor(services, route, message);
    answer = await adapter.logout.answerLogout(message, async (request) => {
      ended = await upstreamSessions(services).end(request);
      return ended;
    });
  } catch (error) {
    const unavailable = unavailableCodeWithin(error);
    // sessions ended by this message, or by its first attempt (a retry whose kept answer could not be signed either)
    const unanswered = error instanceof UnansweredLogout ? error : undefined;
    const sessions = unanswered?.sessions ?? ended;
    if (sessions > 0 || unavailable !== undefined) {
      // not a refusal of the message. Sessions ended (only the signed answer failed after): they stay ended and
      // the record says how many; else a dependency gone before anything ended (PostgreSQL while ending)
      const code = unavailable ?? (error instanceof AdapterError ? error.code : 'INTERNAL');
      await audit(
        ctx,
        services,
        sessions > 0 ? 'UPSTREAM_LOGOUT_UNANSWERED' : 'UPSTREAM_LOGOUT_UNAVAILABLE',
        adapter?.id,
        code,
        {
          sessions,
          ...(unanswered ? { attempt: unanswered.attempt, kept: unanswered.kept } : {}),
          // a retry ended nothing now (its sessions are the first attempt's), as on UPSTREAM_LOGOUT_ANSWERED_ON_RETRY
          ...(unanswered?.attempt === 'retry' ? { endedNow: ended } : {}),
          detail: error instanceof AdapterError ? error.detail : error instanceof Error ? error.message : String(error),
        },
      );
      services.logger.warn({ err: error, code, idp: adapter?.id, sessions }, 'IdP logout request not answered');
      // the registry's 503 (Retry-After for HSM_BUSY and DATABASE_UNAVAILABLE, http/error-handler.ts), else its status
      if (unavailable !== undefined)
        throw new GatewayError(unavailable, errorSpec(unavailable).status, 'The logout could not be answered now.', {
          cause: error,
        });
      if (error instanceof AdapterError) throw refusal(error, 'The logout could not be answered.');
      throw error;
    }
    if (!(error instanceof AdapterError)) throw error;
    const reply = error instanceof AnsweredLogoutRefusal ? error.reply : undefined;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_REFUSED', adapter?.id, error, {
      answered: reply !== undefined,
    });
    // a verified IdP is told, by its own endpoint, that we refused (nothing was ended); anyone else gets the page.
    // Answered or not, it is a refusal: it charges the address's failures bucket like the page's 400
    if (reply) {
      markFailed(ctx);
      return send(ctx, reply);
    }
    throw refusal(error, 'The logout request was refused.');
  }
  // a retry: its sessions were ended by the first attempt, nothing now (`ended` is 0); the answer is signed now
  try {
    await audit(
      ctx,
      services,
      answer.attempt === 'retry' ? 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY' : 'UPSTREAM_LOGOUT_ANSWERED',
      adapter.id,
      undefined,
      answer.attempt === 'retry' ? { sessions: answer.sessions, endedNow: ended } : { sessions: ended },
    );
  } catch (error) {
    // no answer goes out unaudited; kept for the IdP's retry, which else would be a replay never answered
    const kept = answer.reply === null ? false : await answer.keep();
    services.logger.warn({ err: error, idp: adapter.id, kept }, 'IdP logout answer not sent: its audit failed');
    throw error;
  }
  if (answer.reply === null) return signedOut(ctx);
  send(ctx, answer.reply);
}

async function logoutResponse(
  ctx: Context,
  services: Deps,
  route: LogoutRoute,
  message: InboundLogoutMessage,
): Promise<void> {
  let back: WayBack | null;
  try {
    back = await takeWayBack(services, route.correlation(message.params));
  } catch (error) {
    const failure = error instanceof GatewayError ? error : wayBackError('INTERNAL', 'way back', error);
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', undefined, failure);
    throw failure;
  }
  let idp: string | undefined = back?.idp;
  try {
    const adapter = adapterFor(services, route, message);
    idp = adapter.id;
    const { logoutId } = await adapter.logout.finishLogout(message);
    await audit(ctx, services, 'UPSTREAM_LOGOUT_COMPLETED', idp, undefined, { logoutId });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_FAILED', idp, error, back ? { logoutId: back.logoutId } : {});
    if (!back) throw refusal(error, 'The logout response was refused.');
  }
  // the person's own logout happened before the IdP was asked: it stays done whatever the IdP answered
  ctx.status = 303;
  ctx.redirect(back?.returnTo ?? '/session/end/success');
}

/** What `sendToIdp` keeps under `slo:return:<relay>`: exactly that, nothing else is read as a way back. */
const WAY_BACK = z
  .object({ logoutId: z.string().min(1), idp: z.string().min(1), returnTo: z.string().min(1) })
  .strict();
type WayBack = z.infer<typeof WAY_BACK>;

/**
 * Takes the way back kept for the relay value of our logout request (null: none). Redis failing:
 * `FLOW_STORE_UNAVAILABLE` (503); a value `sendToIdp` never wrote: `INTERNAL` (500). Both audited as refusals.
 */
async function takeWayBack(services: Deps, relay: string | undefined): Promise<WayBack | null> {
  if (relay === undefined) return null;
  let raw: string | null;
  try {
    raw = await services.redis.getdel(`slo:return:${relay}`);
  } catch (error) {
    throw wayBackError('FLOW_STORE_UNAVAILABLE', 'Redis did not answer', error);
  }
  if (raw === null) return null;
  try {
    return WAY_BACK.parse(JSON.parse(raw));
  } catch (error) {
    throw wayBackError('INTERNAL', 'not a way back the gateway wrote', error);
  }
}

const wayBackError = (code: 'FLOW_STORE_UNAVAILABLE' | 'INTERNAL', detail: string, cause: unknown) =>
  new GatewayError(code, errorSpec(code).status, 'The logout response could not be taken back.', {
    detail: `logout response: ${detail}`,
    cause,
  });

/**
 * An oidc-provider middleware (installed on every generation), after the provider has answered:
 *
 * - `resume` that logged a person in: the login's upstream session is linked to the gateway session it went
 *   into (IdP-initiated logout then revokes exactly that session);
 * - `end_session_confirm` that destroyed the gateway session: the upstream session is ended too — the browser
 *   goes to the IdP with our logout request and comes back to its protocol's `logout` route, then on to where
 *   oidc-provider was sending it.
 * A fault here is logged and leaves oidc-provider's answer as it was (the login, or the local logout, stands).
 */
export function upstreamLogoutInProvider(services: () => Deps) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'resume' && route !== 'end_session_confirm') return;
    const session = ctx.oidc.session as unknown as { destroyed?: boolean; uid?: unknown } | undefined;
    if (typeof session?.uid !== 'string') return;
    const deps = services();
    try {
      if (route === 'resume') {
        const loginId = ctx.oidc.entities.Interaction?.uid;
        // a login that stood on the session's earlier authentication (SSO) has no upstream record to link
        if (ctx.oidc.result?.login && typeof loginId === 'string' && mayHaveUpstreamLogin(ctx.oidc.result))
          await upstreamSessions(deps).linkSession(loginId, session.uid);
        return;
      }
      if (!session.destroyed || ctx.status !== 303) return;
      const start = await sendToIdp(ctx as unknown as Context, deps, session.uid, ctx.response.get('Location'));
      if (start) send(ctx as unknown as Context, start);
    } catch (err) {
      deps.logger.warn({ err, route }, 'single logout bookkeeping failed');
    }
  };
}

async function sendToIdp(
  ctx: Context,
  services: Deps,
  sessionUid: string,
  returnTo: string,
): Promise<FrontChannel | null> {
  const ref = await upstreamSessions(services).ofSession(sessionUid);
  if (!ref) return null;
  const skipped = (code: ErrorCode, detail?: string) =>
    audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', ref.idp, code, detail ? { detail } : {}).then(() => null);
  let adapter: UpstreamAdapter;
  try {
    adapter = services.adapters.get(ref.idp);
  } catch {
    return skipped('ADAPTER_UNKNOWN');
  }
  const logout = adapter.logout;
  if (!logout.offered) return skipped(logout.notOfferedCode, logout.reason);
  const logoutId = randomUUID();
  const relayState = randomBytes(24).toString('base64url');
  let start: FrontChannel | null;
  try {
    start = await logout.startLogout({ logoutId, relayState, session: ref });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    // the cause, not the adapter's wrapper: an HSM busy under `SAML_SIGNING_FAILED` is recorded `HSM_BUSY`
    return skipped(unavailableCodeWithin(error) ?? error.code, error.detail);
  }
  if (!start) return skipped(logout.notOfferedCode, 'the IdP lists no logout endpoint');
  await services.redis.set(
    `slo:return:${relayState}`,
    JSON.stringify({ logoutId, idp: ref.idp, returnTo }),
    'EX',
    RETURN_TTL_SECONDS,
  );
  await audit(ctx, services, 'UPSTREAM_LOGOUT_SENT', ref.idp, undefined, { logoutId, binding: start.binding });
  return start;
}

/**
 * Called by the login-response route once a login is verified: keeps its upstream session (subject, format,
 * session index), sealed, under the login id (linked to the gateway session when oidc-provider resumes the login).
 */
export async function recordUpstreamLogin(services: Deps, loginId: string, identity: UpstreamIdentity): Promise<void> {
  await upstreamSessions(services).recordLogin(loginId, {
    idp: identity.idp,
    subject: identity.subject,
    nameIdFormat: identity.nameIdFormat,
    ...(identity.sessionIndex === undefined ? {} : { sessionIndex: identity.sessionIndex }),
  });
}

function send(ctx: Context, start: FrontChannel): void {
  if (start.binding === 'redirect') {
    ctx.status = 303;
    ctx.redirect(start.url);
    return;
  }
  ctx.status = 200;
  ctx.type = 'html';
  ctx.body = autoPostForm(start.url, start.fields);
}

function signedOut(ctx: Context): void {
  ctx.status = 303;
  ctx.redirect('/session/end/success');
}

/** The audit states of Single Logout with the IdPs (each record's `to`; its code, if any, in `errorCode`). */
type LogoutAuditState =
  | 'UPSTREAM_LOGOUT_ANSWERED'
  | 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY'
  | 'UPSTREAM_LOGOUT_UNANSWERED'
  | 'UPSTREAM_LOGOUT_UNAVAILABLE'
  | 'UPSTREAM_LOGOUT_REFUSED'
  | 'UPSTREAM_LOGOUT_FAILED'
  | 'UPSTREAM_LOGOUT_SENT'
  | 'UPSTREAM_LOGOUT_SKIPPED'
  | 'UPSTREAM_LOGOUT_COMPLETED';

async function audit(
  ctx: Context,
  services: Deps,
  to: LogoutAuditState,
  idp: string | undefined,
  errorCode: ErrorCode | undefined,
  details: Record<string, unknown>,
): Promise<void> {
  const requestId = ctx.state?.requestId as string | undefined;
  await services.audit.append({
    sessionId: `slo:${requestId ?? randomUUID()}`,
    from: null,
    to,
    component: idp ? `adapter:${idp}` : 'upstream-logout',
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(requestId === undefined ? {} : { requestId }),
    details: withoutNul({ ...details, ...(idp ? { idp } : {}) }) as Record<string, unknown>,
  });
}

/**
 * A refusal's detail may quote the message (`SigAlg …`, a parameter name): a NUL character in it, which the
 * audit log refuses (jsonb cannot hold one), turned the refusal into a 500 (issue #15, found by the logout
 * fuzzer). Written as `U+0000` instead.
 */
function withoutNul(value: unknown): unknown {
  // the character, and its JSON escape written out (the audit log's check reads the serialised JSON text)
  if (typeof value === 'string') return value.replaceAll('\u0000', 'U+0000').replaceAll('\\u0000', 'U+0000');
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)]));
  return value;
}
