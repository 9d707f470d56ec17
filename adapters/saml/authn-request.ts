/**
 * Builds the AuthnRequest we send to an IdP, signed in the HSM for the HTTP-POST binding (for
 * HTTP-Redirect the query string is signed instead: `redirect-binding.ts`).
 *
 * - ID (fresh, random), Version 2.0, IssueInstant, Destination (the IdP's SSO endpoint of the binding used),
 *   AssertionConsumerServiceURL and ProtocolBinding HTTP-POST, Issuer (our entityID), NameIDPolicy (the
 *   IdP's configured Format), RequestedAuthnContext Comparison="minimum" with the eIDAS LoA URI,
 *   ForceAuthn when asked, IsPassive="false" when a profile asks for it explicitly.
 * - A profile may add `samlp:Extensions` (the eIDAS SPType and RequestedAttributes), built by us.
 * - Every interpolated value is escaped (SAML-GEN-01).
 * - The enveloped signature sits right after Issuer, before Extensions (SAML core schema order).
 */
import { randomBytes } from 'node:crypto';
import type { LoaUri } from '../contract.ts';
import type { Signer } from '../../hsm/signer.ts';
import { signXml } from './sign-xml.ts';
import { xmlEscape } from './xml/escape.ts';
import { BINDING, NAMEID_UNSPECIFIED, NS } from './xml/namespaces.ts';

export interface AuthnRequestInput {
  spEntityId: string;
  acsUrl: string;
  destination: string;
  minimumLoa: LoaUri;
  forceAuthn: boolean;
  issueInstant: Date;
  /** Defaults to a fresh random ID. */
  id?: string;
  /** NameIDPolicy Format; default unspecified. */
  nameIdFormat?: string;
  /** Complete `samlp:Extensions` children, already escaped (built by a profile, never from input). */
  extensionsXml?: string;
  /** Writes IsPassive="false" (eIDAS EID-R1). */
  explicitNotPassive?: boolean;
  /** Extra namespace declarations the extensions use, e.g. `{ eidas: NS.eidas }`. */
  namespaces?: Record<string, string>;
}

/** A fresh SAML ID: `_` + 128 random bits in hex (an NCName). */
export function newSamlId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

/**
 * The unsigned AuthnRequest XML.
 *
 * @example
 * const { id, xml } = buildAuthnRequest({ spEntityId, acsUrl, destination, minimumLoa, forceAuthn: false, issueInstant: new Date() });
 */
export function buildAuthnRequest(input: AuthnRequestInput): { id: string; xml: string } {
  const id = input.id ?? newSamlId();
  const e = xmlEscape;
  const force = input.forceAuthn ? ' ForceAuthn="true"' : '';
  const passive = input.explicitNotPassive ? ' IsPassive="false"' : '';
  const xmlns = Object.entries(input.namespaces ?? {})
    .map(([prefix, uri]) => ` xmlns:${prefix}="${e(uri)}"`)
    .join('');
  const extensions = input.extensionsXml ? `<samlp:Extensions>${input.extensionsXml}</samlp:Extensions>` : '';
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"${xmlns}` +
    ` ID="${e(id)}" Version="2.0" IssueInstant="${e(input.issueInstant.toISOString())}"` +
    ` Destination="${e(input.destination)}" AssertionConsumerServiceURL="${e(input.acsUrl)}"` +
    ` ProtocolBinding="${BINDING.post}"${force}${passive}>` +
    `<saml:Issuer>${e(input.spEntityId)}</saml:Issuer>` +
    extensions +
    `<samlp:NameIDPolicy Format="${e(input.nameIdFormat ?? NAMEID_UNSPECIFIED)}" AllowCreate="true"/>` +
    `<samlp:RequestedAuthnContext Comparison="minimum">` +
    `<saml:AuthnContextClassRef>${e(input.minimumLoa)}</saml:AuthnContextClassRef>` +
    `</samlp:RequestedAuthnContext>` +
    `</samlp:AuthnRequest>`;
  return { id, xml };
}

/**
 * Builds and signs an AuthnRequest in the HSM.
 *
 * @example
 * const { id, xml } = await signedAuthnRequest(input, keys.activeSigner('saml'), certificatePem);
 */
export async function signedAuthnRequest(
  input: AuthnRequestInput,
  signer: Signer,
  certificatePem: string,
): Promise<{ id: string; xml: string }> {
  const { id, xml } = buildAuthnRequest(input);
  return { id, xml: await signXml(xml, { signer, certificatePem, after: 'Issuer' }) };
}
