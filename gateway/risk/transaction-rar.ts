/**
 * Rich Authorization Requests (RFC 9396) as the way an RP states what is at stake: oidc-provider's
 * `features.richAuthorizationRequests` with one type, `payment_initiation`, whose validator enforces:
 *
 * - `instructedAmount` present, `currency` exactly `EUR` (no silent conversion), `amount` a decimal string
 *   with at most two decimals (`"120.00"`), at most 1e12;
 * - only the RFC 9396 common fields and the usual payment fields; anything else is refused;
 * - at most MAX_AUTHORIZATION_DETAILS entries per request (the risk pipeline's own limit: what it could
 *   not score is never let through unscored);
 * - a malformed request is refused by oidc-provider before any interaction exists, with the OAuth error
 *   `invalid_authorization_details` at the RP's redirect URI (no login is started).
 *
 * The details requested are carried to the authorization code, the access token and introspection as
 * they were validated (this gateway grants exactly what was asked or nothing: the login decides). The
 * risk pipeline reads them from the interaction (`transactionFromParams` in transaction.ts).
 *
 * A login that carried details gets no refresh token (`carriesAuthorizationDetails`, read by the provider's
 * `issueRefreshToken`): the risk pipeline scored that one transaction, and a refresh would mint access tokens for
 * it again without scoring anything. A refresh token that carries details all the same (one issued before this
 * rule) gets `invalid_grant`, never an access token for the payment.
 */
import { MAX_AUTHORIZATION_DETAILS } from './transaction.ts';
import {
  errors,
  type AuthorizationDetailsForIntrospection,
  type Configuration,
  type KoaContextWithOIDC,
  type RichAuthorizationRequestsActiveConfiguration,
} from 'oidc-provider';

type RarFeature = RichAuthorizationRequestsActiveConfiguration & {
  authorizationDetailsForIntrospection: AuthorizationDetailsForIntrospection;
};
type Detail = Record<string, unknown>;

/** The types this gateway understands. */
export const AUTHORIZATION_DETAILS_TYPES = ['payment_initiation'] as const;

const COMMON = new Set(['type', 'locations', 'actions', 'datatypes', 'identifier', 'privileges']);
const PAYMENT = new Set(['instructedAmount', 'creditorName', 'creditorAccount', 'remittanceInformationUnstructured']);
const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;

function refuse(why: string): never {
  throw new errors.InvalidAuthorizationDetails(`payment_initiation: ${why}`);
}

/**
 * Validates one `payment_initiation` detail; throws oidc-provider's `InvalidAuthorizationDetails`.
 *
 * @example
 * validatePaymentInitiation({ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '120.00' } }) // ok
 */
export function validatePaymentInitiation(detail: Detail): void {
  for (const key of Object.keys(detail)) if (!COMMON.has(key) && !PAYMENT.has(key)) refuse(`unknown field ${key}`);
  const amount = detail.instructedAmount;
  if (typeof amount !== 'object' || amount === null || Array.isArray(amount)) refuse('instructedAmount is required');
  const { currency, amount: value, ...rest } = amount as Detail;
  if (Object.keys(rest).length > 0) refuse('instructedAmount has unknown fields');
  if (currency !== 'EUR') refuse('only EUR amounts are understood');
  if (typeof value !== 'string' || !AMOUNT.test(value)) refuse('amount must be a decimal string such as "120.00"');
  for (const key of ['creditorName', 'remittanceInformationUnstructured'] as const) {
    if (key in detail && (typeof detail[key] !== 'string' || (detail[key] as string).length > 140))
      refuse(`${key} must be a short string`);
  }
  if ('creditorAccount' in detail && (typeof detail.creditorAccount !== 'object' || detail.creditorAccount === null))
    refuse('creditorAccount must be an object');
}

function requested(ctx: KoaContextWithOIDC): Detail[] | undefined {
  const raw = ctx.oidc.params?.authorization_details;
  return typeof raw === 'string' ? (JSON.parse(raw) as Detail[]) : undefined;
}

/** The `features.richAuthorizationRequests` block of the provider configuration. */
export function richAuthorizationRequests(): RarFeature {
  return {
    enabled: true,
    types: {
      payment_initiation: {
        validate: (ctx, detail) => {
          const count = requested(ctx)?.length ?? 0;
          if (count > MAX_AUTHORIZATION_DETAILS)
            refuse(`at most ${MAX_AUTHORIZATION_DETAILS} authorization details per request (${count} given)`);
          validatePaymentInitiation(detail as Detail);
        },
      },
    },
    // the code carries what the (validated) request asked; the login's risk decision already allowed it
    authorizationDetailsForGrantSource: (ctx) => requested(ctx) as never,
    // the token gets exactly what its code carried; details sent again at the token endpoint are refused
    authorizationDetailsForAccessToken: (ctx, _token, source) => {
      if (ctx.oidc.params?.authorization_details !== undefined) refuse('not accepted at the token endpoint');
      if (source?.kind === 'RefreshToken' && carriesAuthorizationDetails(source))
        throw new errors.InvalidGrant('a payment authorization is used once: the person logs in again');
      return source && 'rar' in source ? (source.rar as never) : undefined;
    },
    authorizationDetailsForIntrospection: (_ctx, token) => ('rar' in token ? (token.rar as never) : undefined),
  };
}

/**
 * Whether a code or refresh token carries authorization details (a login that stated a stake).
 *
 * @example
 * carriesAuthorizationDetails(code); // true for the code of a payment_initiation login
 */
export function carriesAuthorizationDetails(source: unknown): boolean {
  if (typeof source !== 'object' || source === null || !('rar' in source)) return false;
  return Array.isArray(source.rar) ? source.rar.length > 0 : source.rar !== undefined && source.rar !== null;
}

/** The resource a token carrying authorization details is for (oidc-provider demands one with RAR). */
export function paymentResource(issuer: string): string {
  return new URL('/resources/payment', issuer).toString();
}

type ResourceFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

/**
 * `features.resourceIndicators`: no resource unless the request carries authorization details, then the
 * payment resource (opaque access tokens, as the gateway's other tokens). Any other resource is refused, and so is the
 * payment resource asked for by name without authorization details (at `/auth` and PAR) or for a code or refresh token
 * that carries none (at `/token`): such a token would have the payment audience for a payment nobody stated nor
 * scored, and a refresh token besides (attacker review, thirty-seventh round).
 */
export function resourceIndicators(issuer: string): ResourceFeature {
  const resource = paymentResource(issuer);
  return {
    enabled: true,
    defaultResource: (ctx) =>
      (ctx.oidc.params?.authorization_details !== undefined || ctx.oidc.entities.AuthorizationCode?.rar
        ? resource
        : undefined) as never,
    getResourceServerInfo: (ctx, indicator) => {
      if (indicator !== resource) throw new errors.InvalidTarget();
      const { params, entities } = ctx.oidc;
      const stated =
        (params?.authorization_details !== undefined && params.authorization_details !== '') ||
        carriesAuthorizationDetails(entities.AuthorizationCode) ||
        carriesAuthorizationDetails(entities.RefreshToken);
      if (!stated) throw new errors.InvalidTarget('the payment resource is granted only with authorization_details');
      return { scope: 'payment', accessTokenFormat: 'opaque', audience: resource };
    },
    useGrantedResource: () => true,
  };
}
