/**
 * The one error mapper. A `GatewayError` or an `AdapterError` is looked up in the error registry
 * (`../error-registry.ts`): its status (a `GatewayError` keeps the one it was raised with), and, below 500,
 * its stable code and its public message in the page's language (French or English). Anything else, and
 * anything at 500 or above, becomes a generic error with a reference. Stack traces and input are never
 * echoed; everything is logged with the request id, the code and its audit outcome.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { AdapterError } from '../../adapters/contract.ts';
import { errorSpec, type ErrorCode } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { HsmError } from '../../hsm/errors.ts';
import { isDatabaseUnavailable } from '../store/database-unavailable.ts';
import { escapeHtml, page } from './html.ts';
import { protocolStepOfError } from './protocol-step.ts';
import { requestLanguage } from './language.ts';

/** `Error code:` stays on the French page too: the conformance suite reads the code after it. */
const PAGE = {
  fr: {
    title: 'Erreur de connexion',
    heading: 'La connexion n’a pas pu continuer',
    code: 'Code d’erreur / Error code:',
    reference: 'référence',
    back: 'Revenez au service d’où vous venez et recommencez.',
  },
  en: {
    title: 'Sign-in error',
    heading: 'Sign-in could not continue',
    code: 'Error code:',
    reference: 'reference',
    back: 'Go back to the service you came from and start again.',
  },
} as const;

/** How long a client is asked to wait when the HSM sheds load (a pool wait is bounded by seconds). */
const HSM_BUSY_RETRY_AFTER_SECONDS = 2;
/** A PostgreSQL restart or failover takes seconds. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

export interface Mapped {
  code: ErrorCode;
  status: number;
  /** The raiser's own public description (JSON answers), when it has one. */
  description: string;
  detail: string | undefined;
}

/**
 * What the error handler makes of an error: its registered code and status (exported for the login paths that
 * answer a dependency's 503 to the RP themselves, interaction/unavailable-mid-login.ts).
 *
 * @example
 * mapError(new HsmError('HSM_BUSY', 'busy')).status; // 503
 */
export function mapError(error: unknown): Mapped {
  // a store failure oidc-provider's adapter shed as its `temporarily_unavailable` (oidc/shed-unavailable.ts,
  // hsm-busy.ts), met by our own pages through `interactionDetails`: mapped as what caused it, a 503, not a 500
  if (error instanceof Error && error.name === 'TemporarilyUnavailable' && error.cause !== undefined)
    return mapError(error.cause);
  if (error instanceof GatewayError)
    return { code: error.code, status: error.status, description: error.message, detail: error.detail };
  // the token's session pool is saturated (issue #15): shed with 503 + Retry-After, never a 500
  if (error instanceof HsmError && error.code === 'HSM_BUSY')
    return { code: 'HSM_BUSY', status: 503, description: 'The service is busy.', detail: error.detail };
  // the key store closed under a request (a drain: shutdown): the service is going away, not a fault (issue #15)
  if (error instanceof HsmError && error.code === 'HSM_CLOSED')
    return {
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      description: 'The service is unavailable.',
      detail: error.detail,
    };
  // PostgreSQL restarting or failing over: a shed request (503 + Retry-After), not a fault of ours (issue #15)
  if (isDatabaseUnavailable(error))
    return { code: 'DATABASE_UNAVAILABLE', status: 503, description: 'The service is unavailable.', detail: undefined };
  // oidc-provider's interaction lookup when the sign-in's interaction is gone (expired, another browser, a stale
  // link or a bookmarked page): the person's sign-in expired — a 400 with its code, not a fault of ours (was a 500)
  if (error instanceof Error && error.name === 'SessionNotFound')
    return {
      code: 'INTERACTION_NOT_FOUND',
      status: 400,
      description: 'This sign-in expired or was started in another browser.',
      detail: error.message,
    };
  if (error instanceof AdapterError)
    return { code: error.code, status: errorSpec(error.code).status, description: error.message, detail: error.detail };
  return { code: 'INTERNAL', status: 500, description: '', detail: undefined };
}

export interface ErrorHandlerOptions {
  /**
   * The operations listener's: every answer JSON whatever the client accepts (curl's `*\/*` too), and a 5xx keeps
   * its registry code (`REVOCATION_NOT_DURABLE`, `DATABASE_UNAVAILABLE`: what the operator must do next) with the
   * registry's own description; only an error outside the registry stays `INTERNAL`.
   */
  forOperators?: boolean;
}

export function errorHandler(logger: Logger, options: ErrorHandlerOptions = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      render(ctx, logger, error, options.forOperators === true);
    }
  };
}

function render(ctx: Context, logger: Logger, error: unknown, forOperators: boolean): void {
  const requestId = String(ctx.state.requestId ?? '');
  const { code: raised, status, description, detail } = mapError(error);
  const spec = errorSpec(raised);
  const expose = status < 500;
  const code = expose || forOperators ? raised : 'INTERNAL';
  // a step of the protocol (a DPoP nonce asked for, http/protocol-step.ts) is no failure: info, not a warning
  const step = protocolStepOfError(error);
  if (step !== undefined && expose)
    logger.info({ requestId, code: raised, step, detail }, 'request answered with a protocol step');
  else
    logger[expose ? 'warn' : 'error'](
      { requestId, code: raised, outcome: spec.audit, detail, err: error },
      'request failed',
    );
  const lang = requestLanguage(ctx);
  const message = (expose ? spec : errorSpec('INTERNAL'))[lang];
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  if (raised === 'HSM_BUSY') ctx.set('Retry-After', String(HSM_BUSY_RETRY_AFTER_SECONDS));
  if (raised === 'DATABASE_UNAVAILABLE') ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  if (forOperators || ctx.accepts('html', 'json') === 'json') {
    ctx.body = {
      error: code,
      error_description: expose ? description : errorSpec(code).en,
      request_id: requestId,
    };
    return;
  }
  const words = PAGE[lang];
  ctx.type = 'html';
  ctx.body = page(
    words.title,
    `<h1>${escapeHtml(words.heading)}</h1>
<p>${escapeHtml(message)}</p>
<p>${escapeHtml(words.code)} <code>${escapeHtml(code)}</code> — ${escapeHtml(words.reference)} <code>${escapeHtml(requestId)}</code>.</p>
<p>${escapeHtml(words.back)}</p>`,
    lang,
  );
}
