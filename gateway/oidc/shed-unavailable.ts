/**
 * A store that cannot answer inside oidc-provider (its adapter: Redis failing over or restarting —
 * `FLOW_STORE_UNAVAILABLE` —, PostgreSQL for the durable models — `DATABASE_UNAVAILABLE`) must not become
 * oidc-provider's 503 `server_error` page: an unexposed error is never redirected to the RP
 * (`lib/shared/authorization_error_handler.js` redirects only an error with `allow_redirect`).
 *
 * So the store's failure is handed to oidc-provider as its own `temporarily_unavailable` (503, exposed,
 * redirectable), as hsm-busy.ts does for the HSM: at the authorization endpoint the RP gets
 * `error=temporarily_unavailable` with `state` and `iss` once the client and its redirect_uri are
 * validated (oidc-provider checks them before redirecting any error), otherwise oidc-provider's error page;
 * at the token and other API endpoints an OAuth-shaped 503. `Retry-After` is set on the response.
 */
import { errors, Provider, type Adapter } from 'oidc-provider';
import { GatewayError } from '../errors.ts';
import { isDatabaseUnavailable } from '../store/database-unavailable.ts';

/** A Redis failover or a PostgreSQL restart takes seconds. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * What a store failure becomes inside oidc-provider: Redis or PostgreSQL unreachable → 503
 * `temporarily_unavailable` (`error_detail` the registered code); anything else unchanged.
 *
 * @example
 * try { return await redis.hgetall(key); } catch (error) { throw shedWhenUnavailable(error); }
 */
export function shedWhenUnavailable(error: unknown): unknown {
  const code =
    error instanceof GatewayError && error.code === 'FLOW_STORE_UNAVAILABLE'
      ? 'FLOW_STORE_UNAVAILABLE'
      : isDatabaseUnavailable(error)
        ? 'DATABASE_UNAVAILABLE'
        : undefined;
  return code === undefined ? error : storeUnavailable(error, code);
}

/**
 * The 503 `temporarily_unavailable` of a store that could not answer in time (`error_detail` the registered code),
 * whatever the cause: also a check PostgreSQL did not answer within its statement timeout
 * (`request-writes-together.ts`).
 */
export function storeUnavailable(
  cause: unknown,
  code: 'FLOW_STORE_UNAVAILABLE' | 'DATABASE_UNAVAILABLE',
): InstanceType<typeof errors.TemporarilyUnavailable> {
  Provider.ctx?.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
  const shed = new errors.TemporarilyUnavailable('the service is unavailable; retry in a moment', { cause });
  Object.assign(shed, { status: 503, statusCode: 503, error_detail: code });
  return shed;
}

const METHODS = ['upsert', 'find', 'findByUid', 'findByUserCode', 'destroy', 'revokeByGrantId', 'consume'] as const;

/**
 * The adapter with every method's store failure shed as above (the adapter's own refusals, e.g. a reused
 * code's `invalid_grant`, pass unchanged).
 */
export function shedding(adapter: Adapter): Adapter {
  const wrapped = Object.create(adapter) as Adapter;
  for (const method of METHODS) {
    const original = adapter[method].bind(adapter) as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(wrapped, method, {
      value: async (...args: unknown[]) => {
        try {
          return await original(...args);
        } catch (error) {
          throw shedWhenUnavailable(error);
        }
      },
    });
  }
  return wrapped;
}
