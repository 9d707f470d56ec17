/**
 * One helper that throws the stable codes of the SAML adapters (listed with their messages in
 * `error-codes.ts`) as the contract's `AdapterError`. Tests and the gateway branch on the code, never on the message.
 */
import { AdapterError } from '../contract.ts';
import { SAML_ERRORS, type SamlErrorCode } from '../errors/saml-codes.ts';

export type { SamlErrorCode } from '../errors/saml-codes.ts';

/**
 * Builds the `AdapterError` for a SAML failure.
 *
 * @example
 * throw samlError('SAML_AUDIENCE_INVALID', { detail: `audience ${value}` });
 */
export function samlError(
  code: SamlErrorCode,
  options: { loginId?: string; detail?: string; cause?: unknown } = {},
): AdapterError {
  return new AdapterError(code, SAML_ERRORS[code].en, options);
}
