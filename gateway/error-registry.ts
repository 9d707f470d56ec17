/**
 * The one closed registry of error codes: every code the gateway or an adapter may raise, each with
 *
 * - `status`: the HTTP status it is answered with (`statuses`: the others a call site may use, e.g. 415);
 * - `oauth`: what the relying party is told when this code ends its login (`interactionFinished`), or `null`
 *   when it never reaches an RP (it is answered on the page, API or CLI that raised it);
 * - `audit`: the outcome it stands for in the audit log and the logs: `refused` (the request or the upstream
 *   answer is not acceptable), `denied` (a decision or an authorisation said no), `error` (we, or a
 *   dependency, failed);
 * - `fr`, `en`: the public message of the error page. Short, generic, never echoing input.
 *
 * The gateway's rows live by concern in `error-registry/` (login, step-up and operations, dependencies; the row
 * type in `spec.ts`). Adapters declare their own codes and kinds (`adapters/errors/`); this file maps each kind.
 * A code that is in neither table does not type-check (`GatewayError`, `AdapterError`); `test/gateway/errors/`
 * walks both.
 */
import type { AdapterErrorKind } from '../adapters/errors/spec.ts';
import { ADAPTER_ERRORS, isAdapterErrorCode, type AdapterErrorCode } from '../adapters/errors/registry.ts';
import { DEPENDENCY_ERRORS } from './error-registry/dependency-codes.ts';
import { LOGIN_ERRORS } from './error-registry/login-codes.ts';
import type { ErrorSpec } from './error-registry/spec.ts';
import { STEP_UP_AND_OPERATIONS_ERRORS } from './error-registry/step-up-and-operations-codes.ts';

export type { AuditOutcome, ErrorSpec, OAuthError } from './error-registry/spec.ts';

/** The gateway's own codes (its subclasses' too: FlowError, WebAuthnError, AuditError, MigrationError), by concern. */
export const GATEWAY_ERRORS = {
  ...LOGIN_ERRORS,
  ...STEP_UP_AND_OPERATIONS_ERRORS,
  ...DEPENDENCY_ERRORS,
} as const satisfies Record<string, ErrorSpec>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** How the gateway answers each kind of adapter failure (the message is the adapter's own). */
const ADAPTER_KINDS: Readonly<Record<AdapterErrorKind, Omit<ErrorSpec, 'fr' | 'en'>>> = {
  refused: { status: 400, oauth: 'access_denied', audit: 'refused' },
  reauthenticate: { status: 400, oauth: 'login_required', audit: 'refused' },
  unavailable: { status: 503, oauth: 'temporarily_unavailable', audit: 'error' },
  config: { status: 500, oauth: 'server_error', audit: 'error' },
  internal: { status: 500, oauth: 'server_error', audit: 'error' },
};

/** Every code of the product: the gateway's and the adapters'. */
export type ErrorCode = GatewayErrorCode | AdapterErrorCode;

function isGatewayErrorCode(value: string): value is GatewayErrorCode {
  return Object.hasOwn(GATEWAY_ERRORS, value);
}

/** Every registered code, the gateway's then the adapters'. */
export const ERROR_CODES: readonly ErrorCode[] = [
  ...Object.keys(GATEWAY_ERRORS).filter(isGatewayErrorCode),
  ...Object.keys(ADAPTER_ERRORS).filter(isAdapterErrorCode),
];

/**
 * The registry row of a code (an adapter's row is derived from its kind). A value that is not a registered
 * code (read back from storage, say) throws: an unknown code is an error, never a default.
 *
 * @example
 * errorSpec('SAML_AUTHN_TOO_OLD').oauth; // 'login_required'
 */
export function errorSpec(code: ErrorCode): ErrorSpec {
  if (isGatewayErrorCode(code)) return GATEWAY_ERRORS[code];
  if (isAdapterErrorCode(code)) {
    const declared = ADAPTER_ERRORS[code];
    return { ...ADAPTER_KINDS[declared.kind], fr: declared.fr, en: declared.en };
  }
  throw new TypeError(`unregistered error code ${String(code)}`);
}
