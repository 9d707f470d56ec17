/**
 * The LogoutRequest we send an IdP when the person logs out at a relying party (SP-initiated Single Logout,
 * SAML Core §3.7.1), signed in the HSM for the HTTP-POST binding (HTTP-Redirect signs the query string:
 * `redirect-binding.ts`).
 *
 * - ID (fresh, random), Version 2.0, IssueInstant, Destination (the IdP's SingleLogoutService of the binding
 *   used), NotOnOrAfter (IssueInstant + `LOGOUT_REQUEST_LIFETIME_SECONDS`), Issuer (our entityID);
 * - the NameID exactly as the IdP asserted it at login (value and Format), and its SessionIndex when it gave one;
 * - every interpolated value is escaped; the enveloped signature sits right after Issuer (schema order).
 */
import type { Signer } from '../../hsm/signer.ts';
import { newSamlId } from './authn-request.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { NS } from './xml/namespaces.ts';

/** How long an IdP may act on our LogoutRequest. */
export const LOGOUT_REQUEST_LIFETIME_SECONDS = 300;

export interface LogoutRequestInput {
  spEntityId: string;
  destination: string;
  issueInstant: Date;
  nameId: { value: string; format: string };
  sessionIndex?: string;
  /** Defaults to a fresh random ID. */
  id?: string;
}

/**
 * The unsigned LogoutRequest XML.
 *
 * @example
 * const { id, xml } = buildLogoutRequest({ spEntityId, destination, issueInstant: new Date(), nameId: { value, format } });
 */
export function buildLogoutRequest(input: LogoutRequestInput): { id: string; xml: string } {
  const id = input.id ?? newSamlId();
  const e = xmlEscape;
  const notOnOrAfter = new Date(input.issueInstant.getTime() + LOGOUT_REQUEST_LIFETIME_SECONDS * 1000);
  const xml =
    `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"` +
    ` ID="${e(id)}" Version="2.0" IssueInstant="${e(input.issueInstant.toISOString())}"` +
    ` Destination="${e(input.destination)}" NotOnOrAfter="${e(notOnOrAfter.toISOString())}">` +
    `<saml:Issuer>${e(input.spEntityId)}</saml:Issuer>` +
    `<saml:NameID Format="${e(input.nameId.format)}">${e(input.nameId.value)}</saml:NameID>` +
    (input.sessionIndex === undefined ? '' : `<samlp:SessionIndex>${e(input.sessionIndex)}</samlp:SessionIndex>`) +
    `</samlp:LogoutRequest>`;
  return { id, xml };
}

/**
 * Builds and signs a LogoutRequest in the HSM (enveloped signature, for HTTP-POST).
 *
 * @example
 * const { id, xml } = await signedLogoutRequest(input, keys.activeSigner('saml'), certificatePem);
 */
export async function signedLogoutRequest(
  input: LogoutRequestInput,
  signer: Signer,
  certificatePem: string,
): Promise<{ id: string; xml: string }> {
  const { id, xml } = buildLogoutRequest(input);
  return { id, xml: await signXml(xml, { signer, certificatePem, after: 'Issuer' }) };
}
