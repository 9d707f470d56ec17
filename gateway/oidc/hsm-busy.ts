/**
 * A signature asked for inside oidc-provider (the ID token at the token endpoint, an RFC 9068 access token,
 * a signed userinfo or introspection answer) that meets a saturated HSM (`HSM_BUSY` from the session pool)
 * must not become oidc-provider's own 500 `server_error`: its error handlers answer every error that is not
 * an exposed `OIDCProviderError` that way (`lib/shared/error_handler.js`, `err_out.js`).
 *
 * So the HSM's refusal is handed to oidc-provider as its own `temporarily_unavailable` error with status 503
 * (exposed: oidc-provider answers it with its OAuth-shaped body, or redirects it to the RP at the
 * authorization endpoint), `error_detail` `HSM_BUSY` (logged by error-events.ts), and `Retry-After` set on
 * the request's response (oidc-provider keeps the request's context in `Provider.ctx`).
 */
import { errors, Provider } from 'oidc-provider';
import { HsmError } from '../../hsm/errors.ts';

/** How long a client is asked to wait when the HSM sheds load (a pool wait is bounded by seconds). */
export const HSM_BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * What a failed signature becomes inside oidc-provider: `HSM_BUSY` → 503 `temporarily_unavailable`;
 * anything else unchanged.
 *
 * @example
 * try { return await signer.sign(data); } catch (error) { throw shedWhenBusy(error); }
 */
export function shedWhenBusy(error: unknown): unknown {
  if (!(error instanceof HsmError) || error.code !== 'HSM_BUSY') return error;
  Provider.ctx?.set('Retry-After', String(HSM_BUSY_RETRY_AFTER_SECONDS));
  const shed = new errors.TemporarilyUnavailable(
    'the service is busy; retry after the number of seconds in Retry-After',
    { cause: error },
  );
  // exposed (oidc-provider decided that at 400, when it was built), answered with 503
  Object.assign(shed, { status: 503, statusCode: 503, error_detail: 'HSM_BUSY' });
  return shed;
}
