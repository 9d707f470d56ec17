/**
 * The LogoutResponse we send back to an IdP that asked us to end a session (IdP-initiated Single Logout,
 * SAML Core §3.7.2), signed in the HSM for HTTP-POST (HTTP-Redirect signs the query string).
 *
 * - ID, Version 2.0, IssueInstant, Destination (the IdP's SingleLogoutService ResponseLocation), InResponseTo
 *   (the verified ID of its request), Issuer (our entityID), and a top-level StatusCode;
 * - only Success is ever sent: a request we refuse gets no signed answer (the refusal is audited instead).
 */
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { NS, STATUS_SUCCESS } from './xml/namespaces.ts';

export interface LogoutResponseInput {
  spEntityId: string;
  destination: string;
  inResponseTo: string;
  issueInstant: Date;
  /** Defaults to a fresh random ID. */
  id?: string;
}

/**
 * The unsigned LogoutResponse XML (Success).
 *
 * @example
 * const { xml } = buildLogoutResponse({ spEntityId, destination, inResponseTo: request.id, issueInstant: new Date() });
 */
export function buildLogoutResponse(input: LogoutResponseInput): { id: string; xml: string } {
  const id = input.id ?? newSamlId();
  const e = xmlEscape;
  const xml =
    `<samlp:LogoutResponse xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"` +
    ` ID="${e(id)}" Version="2.0" IssueInstant="${e(input.issueInstant.toISOString())}"` +
    ` Destination="${e(input.destination)}" InResponseTo="${e(input.inResponseTo)}">` +
    `<saml:Issuer>${e(input.spEntityId)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${STATUS_SUCCESS}"/></samlp:Status>` +
    `</samlp:LogoutResponse>`;
  return { id, xml };
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
