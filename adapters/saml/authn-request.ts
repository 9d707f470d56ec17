/**
 * Builds the AuthnRequest we send to a legacy IdP, signed in the HSM, for the HTTP-POST binding.
 *
 * - ID (fresh, random), Version 2.0, IssueInstant, Destination (the IdP's SSO POST endpoint),
 *   AssertionConsumerServiceURL and ProtocolBinding HTTP-POST, Issuer (our entityID), NameIDPolicy,
 *   RequestedAuthnContext Comparison="minimum" with the eIDAS LoA URI, ForceAuthn when asked.
 * - Every interpolated value is escaped (SAML-GEN-01).
 * - The enveloped signature sits right after Issuer (SAML core schema order).
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
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"` +
    ` ID="${e(id)}" Version="2.0" IssueInstant="${e(input.issueInstant.toISOString())}"` +
    ` Destination="${e(input.destination)}" AssertionConsumerServiceURL="${e(input.acsUrl)}"` +
    ` ProtocolBinding="${BINDING.post}"${force}>` +
    `<saml:Issuer>${e(input.spEntityId)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${NAMEID_UNSPECIFIED}" AllowCreate="true"/>` +
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
