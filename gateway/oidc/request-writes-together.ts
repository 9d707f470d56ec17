/**
 * Issue #14: the session-store records one oidc-provider request writes are written to PostgreSQL together,
 * in one round trip and one transaction, before the response leaves (`DurableOidcModels.holdWrites`):
 * oidc-provider saves them one after the other.
 *
 * - the token request: the access token and the refresh token;
 * - the authorization request: with `prompt=none` on a session, the person's identity, the grant and the
 *   session (`completion/sso.ts`); else the session it re-saves;
 * - the resumption after an interaction: the session (ending its old cookie id and saving it under a new one
 *   is one write) and the login's link to its upstream session (`interaction/upstream-session-records.ts`).
 *
 * A failed write fails the request: its answer (the tokens, the code's redirect) is replaced by an error, so
 * nothing is handed out that was not stored. The write comes after oidc-provider's route (and its error
 * handler) has answered, so the error is answered here as that handler would (an unanswered one was Koa's bare
 * 500/503 and a stack on stderr): PostgreSQL unreachable — a connection ended, refused — is the registered
 * 503 `temporarily_unavailable` with `error_detail` `DATABASE_UNAVAILABLE` and Retry-After
 * (shed-unavailable.ts), anything else a 500 `server_error`; the JSON body at the token endpoint, the error
 * page at the browser routes (its way back to the RP, no redirect to it: the redirect the route made carried
 * the code); oidc-provider's error event emitted with it (error-events.ts logs it). A session another request
 * ended or revoked meanwhile (its write refused, or found closed when a session saved unchanged was checked:
 * `session/session-closed-meanwhile.ts`) is a `login_required` when the answer carried a code (audited
 * `SESSION_CLOSED_MEANWHILE`): sent to the RP's redirect URI for a `prompt=none` request (a silent renew), the
 * error page with a 400 otherwise; any other answer stands.
 */
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { DurableOidcModels } from '../session/oidc-models.ts';
import { UncheckedRecords } from '../session/held-writes.ts';
import { SessionClosedMeanwhile } from '../session/session-closed-meanwhile.ts';
import { redirectErrorToRp } from './authorization-error-redirect.ts';
import { runDeferringWrites } from './deferred-writes.ts';
import { renderErrorPage } from './error-page.ts';
import { shedWhenUnavailable, STORE_RETRY_AFTER_SECONDS, storeUnavailable } from './shed-unavailable.ts';

/** oidc-provider's paths (`routes.token`, `routes.authorization`; the resumption is `<authorization>/:uid`). */
export interface WritingRoutes {
  token: string;
  authorization: string;
}

export function writeRequestRecordsTogether(
  provider: Provider,
  durable: DurableOidcModels,
  routes: WritingRoutes,
): void {
  const resumption = `${routes.authorization}/`;
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const writes =
      (ctx.method === 'POST' && ctx.path === routes.token) ||
      ((ctx.method === 'GET' || ctx.method === 'POST') &&
        (ctx.path === routes.authorization || ctx.path.startsWith(resumption)));
    if (!writes) return next();
    try {
      // the Redis writes deferred in the request (deferred-writes.ts) are waited for with its records
      // a session saved unchanged is checked only when the answer hands out a code made on it
      await runDeferringWrites(() => durable.holdWrites(next, () => Boolean(ctx.oidc?.entities?.AuthorizationCode)));
    } catch (error) {
      await answerUnstored(provider, ctx, error, ctx.path === routes.token ? 'grant.error' : 'authorization.error');
    }
  });
}

/** The request's answer replaced by the error of its failed write (see the header). */
async function answerUnstored(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  error: unknown,
  event: 'grant.error' | 'authorization.error',
): Promise<void> {
  // an answer that hands out nothing made on the session (a page, a login form) stands: only its write was refused,
  // or its unchanged session could not be checked
  const handsOutCode = Boolean(ctx.oidc?.entities?.AuthorizationCode);
  if (error instanceof SessionClosedMeanwhile)
    return handsOutCode ? answerClosed(provider, ctx, error, event) : undefined;
  if (error instanceof UncheckedRecords && !handsOutCode) return;
  // a session that could not be checked (unreachable, or no answer within the statement timeout): not known open
  const shed =
    error instanceof UncheckedRecords
      ? storeUnavailable(error.cause, 'DATABASE_UNAVAILABLE')
      : shedWhenUnavailable(error);
  const unavailable = shed instanceof errors.TemporarilyUnavailable;
  ctx.remove('Location');
  ctx.status = unavailable ? 503 : 500;
  if (unavailable) ctx.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
  await renderErrorPage(
    ctx,
    unavailable
      ? { error: shed.error, error_description: shed.error_description }
      : { error: 'server_error', error_description: 'oops! something went wrong' },
  );
  const emitter = provider as unknown as NodeJS.EventEmitter;
  if (unavailable) emitter.emit(event, ctx, shed);
  else emitter.emit('server_error', ctx, error);
}

/** The `error_detail` of that refusal: error-events.ts audits it under this code. */
export const CLOSED_MEANWHILE = 'SESSION_CLOSED_MEANWHILE';

/**
 * The session was ended or revoked by another request (a logout in another tab) while this one ran: its write was
 * refused (or its unchanged session found closed), and the code or login it made on that session is not handed
 * out. A `prompt=none` request gets `login_required` at the RP's redirect URI, as oidc-provider answers one without
 * a session; any other, the 400 error page, and the person logs in again. oidc-provider's error event logs it.
 */
async function answerClosed(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  closed: SessionClosedMeanwhile,
  event: 'grant.error' | 'authorization.error',
): Promise<void> {
  // the standard description: the RP is not told whether a logout or a revocation closed the session (the log is)
  const error = Object.assign(new errors.LoginRequired(), { error_detail: CLOSED_MEANWHILE, reason: closed.message });
  const description = error.error_description ?? 'End-User authentication is required';
  const silent = event === 'authorization.error' && ctx.oidc.prompts?.has('none');
  if (silent && (await redirectErrorToRp(ctx, { error: error.error, error_description: description }))) {
    (provider as unknown as NodeJS.EventEmitter).emit(event, ctx, error);
    return;
  }
  ctx.remove('Location');
  ctx.status = 400;
  await renderErrorPage(ctx, { error: error.error, error_description: description });
  (provider as unknown as NodeJS.EventEmitter).emit(event, ctx, error);
}
