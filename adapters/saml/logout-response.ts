/**
 * The LogoutResponse we send back to an IdP that asked us to end a session (IdP-initiated Single Logout,
 * SAML Core §3.7.2), signed in the HSM for HTTP-POST (HTTP-Redirect signs the query string).
 *
 * - ID, Version 2.0, IssueInstant, Destination (the IdP's SingleLogoutService ResponseLocation), InResponseTo
 *   (the verified ID of its request), Issuer (our entityID), and a top-level StatusCode (with a second-level
 *   one for a refusal, SAML Core §3.2.2.2);
 * - Success when the sessions were ended; a non-success status only for a refused request whose sender was
 *   verified (`logout-refusal.ts` decides which, per code); an unverified request gets no signed answer.
 */
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { NS } from './xml/namespaces.ts';

/** The StatusCode of a LogoutResponse: a top-level value and, for a refusal, a second-level one. */
export interface LogoutStatus {
  top: string;
  second?: string;
}

export interface LogoutResponseInput {
  spEntityId: string;
  destination: string;
  inResponseTo: string;
  issueInstant: Date;
  status: LogoutStatus;
  /** Defaults to a fresh random ID. */
  id?: string;
}

/**
 * The unsigned LogoutResponse XML.
 *
 * @example
 * const { xml } = buildLogoutResponse({ spEntityId, destination, inResponseTo: request.id, issueInstant: new Date(),
 *   status: { top: STATUS_SUCCESS } });
 */
export function buildLogoutResponse(input: LogoutResponseInput): { id: string; xml: string } {
  const id = input.id ?? newSamlId();
  const e = xmlEscape;
  const xml =
    `<samlp:LogoutResponse xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"` +
    ` ID="${e(id)}" Version="2.0" IssueInstant="${e(input.issueInstant.toISOString())}"` +
    ` Destination="${e(input.destination)}" InResponseTo="${e(input.inResponseTo)}">` +
    `<saml:Issuer>${e(input.spEntityId)}</saml:Issuer>` +
    `<samlp:Status>${statusCode(input.status)}</samlp:Status>` +
    `</samlp:LogoutResponse>`;
  return { id, xml };
}

function statusCode(status: LogoutStatus): string {
  const top = xmlEscape(status.top);
  if (status.second === undefined) return `<samlp:StatusCode Value="${top}"/>`;
  return `<samlp:StatusCode Value="${top}"><samlp:StatusCode Value="${xmlEscape(status.second)}"/></samlp:StatusCode>`;
}

/**
 * Builds and signs a LogoutResponse in the HSM (enveloped signature, for HTTP-POST).
 *
 * @example
 * const { xml } = await signedLogoutResponse(input, keys.activeSigner('saml'), certificatePem);
 */
export async function signedLogoutResponse(
  input: LogoutResponseInput,
  signer: Signer,
  certificatePem: string,
): Promise<{ id: string; xml: string }> {
  const { id, xml } = buildLogoutResponse(input);
  return { id, xml: await signXml(xml, { signer, certificatePem, after: 'Issuer' }) };
}
