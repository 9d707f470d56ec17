/**
 * How a refused IdP LogoutRequest is answered (SAML Core §3.7.3.2, Profiles §4.4.3.4): a LogoutResponse with a
 * non-success status, signed in the HSM, to the IdP's own SingleLogoutService — only when the request is known
 * to come from that IdP and to be meant for us. Otherwise no signed answer can go anywhere trusted: the browser
 * gets the gateway's refusal page. Nothing is ended either way.
 *
 * | refusal (code)                                                          | answer |
 * |-------------------------------------------------------------------------|--------|
 * | transport, XML, structure (`SAML_TRANSPORT_INVALID`, `SAML_TOO_LARGE`, `SAML_RELAYSTATE_INVALID`, `SAML_MALFORMED_XML`, `SAML_DTD_FORBIDDEN`, `SAML_SCHEMA_INVALID`, `SAML_DUPLICATE_ID`, `SAML_SIGNATURE_WRAPPING`, `SAML_COMMENT_IN_IDENTITY`) | page: nothing about the sender is established |
 * | issuer (`SAML_LOGOUT_ISSUER_INVALID`; gateway `SAML_LOGOUT_ISSUER_UNKNOWN`), the IdP's metadata unusable (`SAML_IDP_UNAVAILABLE`) | page: no trusted endpoint |
 * | signature (`SAML_LOGOUT_SIGNATURE_MISSING`, `SAML_LOGOUT_SIGNATURE_INVALID`, `SAML_ALG_NOT_ALLOWED`, `SAML_TRANSFORM_NOT_ALLOWED`, `SAML_KEY_TOO_WEAK`) | page: the sender is not verified (and an HSM signature would be an answer to anyone) |
 * | signed content unreadable (`SAML_NAMEID_INVALID`)                       | page: no verified request ID to answer |
 * | `SAML_LOGOUT_DESTINATION_INVALID`                                       | page: the request was meant for another party and MUST be discarded (Core §3.2.1) |
 * | `SAML_LOGOUT_REPLAYED`                                                  | page: the request was already answered; a second, contradicting answer is not sent (the retry of a request whose answer could not be signed gets that answer instead: `logout-retry.ts`) |
 * | `SAML_LOGOUT_NOT_YET_VALID`, `SAML_LOGOUT_EXPIRED`                      | `Requester` / `RequestDenied` |
 * | `SAML_LOGOUT_UNKNOWN_SESSION`                                           | `Requester` / `UnknownPrincipal` |
 * | anything else (`SAML_INTERNAL_ERROR`, `SAML_SIGNING_FAILED`, …)         | page |
 *
 * Besides the code, `answerable` requires what the table assumes: verified values (the request ID) and the
 * Destination checked; a code listed here never gets an answer from an earlier step.
 */
import type { AdapterErrorCode } from '../errors/registry.ts';
import type { LogoutStatus } from './logout-response.ts';
import { STATUS_REQUEST_DENIED, STATUS_REQUESTER, STATUS_UNKNOWN_PRINCIPAL } from './xml/namespaces.ts';

/** The refusals answered to the IdP, with the status they are answered with; every other code gets the page. */
export const ANSWERED_LOGOUT_REFUSALS: Readonly<Partial<Record<AdapterErrorCode, LogoutStatus>>> = {
  SAML_LOGOUT_NOT_YET_VALID: { top: STATUS_REQUESTER, second: STATUS_REQUEST_DENIED },
  SAML_LOGOUT_EXPIRED: { top: STATUS_REQUESTER, second: STATUS_REQUEST_DENIED },
  SAML_LOGOUT_UNKNOWN_SESSION: { top: STATUS_REQUESTER, second: STATUS_UNKNOWN_PRINCIPAL },
};

/**
 * The status a refused LogoutRequest is answered with, or undefined for the page.
 *
 * @example
 * refusalStatus('SAML_LOGOUT_EXPIRED', { verified: true, destinationChecked: true }); // Requester / RequestDenied
 */
export function refusalStatus(
  code: AdapterErrorCode,
  reached: { verified: boolean; destinationChecked: boolean },
): LogoutStatus | undefined {
  if (!reached.verified || !reached.destinationChecked) return undefined;
  return Object.hasOwn(ANSWERED_LOGOUT_REFUSALS, code) ? ANSWERED_LOGOUT_REFUSALS[code] : undefined;
}
