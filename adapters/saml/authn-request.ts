/**
 * Builds the AuthnRequest we send to an IdP, signed in the HSM for the HTTP-POST binding (for
 * HTTP-Redirect the query string is signed instead: `redirect-binding.ts`).
 *
 * - ID (fresh, random), Version 2.0, IssueInstant, Destination (the IdP's SSO endpoint of the binding used),
 *   AssertionConsumerServiceURL and ProtocolBinding HTTP-POST, Issuer (our entityID), NameIDPolicy (the
 *   IdP's configured Format), RequestedAuthnContext Comparison="minimum" with the eIDAS LoA URI,
 *   ForceAuthn when asked, IsPassive="false" when a profile asks for it explicitly.
 * - A profile may add `samlp:Extensions` (the eIDAS SPType and RequestedAttributes), built by us.
 * - Every interpolated value is escaped (SAML-GEN-01), with the escaping of the canonical form.
 * - The document is written in its exclusive-c14n form (`xml/canonical.ts`: attributes in canonical
 *   order, each namespace declared on the outermost element that uses it, no self-closing tag), so the
 *   enveloped signature digests the document as written (`sign-canonical.ts`): no parse, no
 *   canonicalisation per login (issue #14).
 * - The enveloped signature sits right after Issuer, before Extensions (SAML core schema order).
 */
import { randomBytes } from 'node:crypto';
import type { LoaUri } from '../contract.ts';
import type { Signer } from '../../hsm/signer.ts';
import { signCanonicalXml } from './sign-canonical.ts';
import { c14nAttribute, c14nText } from './xml/canonical.ts';
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
  /**
   * Complete `samlp:Extensions` children, built by a profile (never from input), escaped and in their
   * exclusive-c14n form: each top-level child declares the namespace it uses.
   */
  extensionsXml?: string;
  /** Writes IsPassive="false" (eIDAS EID-R1). */
  explicitNotPassive?: boolean;
}

/** An AuthnRequest as written: its ID, the XML, and where the enveloped Signature goes (after Issuer). */
export interface BuiltAuthnRequest {
  id: string;
  xml: string;
  /** Offset in `xml` right after `</saml:Issuer>`. */
  signatureAt: number;
}

/** A fresh SAML ID: `_` + 128 random bits in hex (an NCName). */
export function newSamlId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

/**
 * The unsigned AuthnRequest XML, in its exclusive-c14n form.
 *
 * @example
 * const { id, xml } = buildAuthnRequest({ spEntityId, acsUrl, destination, minimumLoa, forceAuthn: false, issueInstant: new Date() });
 */
export function buildAuthnRequest(input: AuthnRequestInput): BuiltAuthnRequest {
  const id = input.id ?? newSamlId();
  const a = c14nAttribute;
  // attributes in canonical order (no namespace: by local name, code unit order)
  const head =
    `<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" AssertionConsumerServiceURL="${a(input.acsUrl)}"` +
    ` Destination="${a(input.destination)}"${input.forceAuthn ? ' ForceAuthn="true"' : ''} ID="${a(id)}"` +
    `${input.explicitNotPassive ? ' IsPassive="false"' : ''} IssueInstant="${a(input.issueInstant.toISOString())}"` +
    ` ProtocolBinding="${BINDING.post}" Version="2.0">` +
    `<saml:Issuer xmlns:saml="${NS.assertion}">${c14nText(input.spEntityId)}</saml:Issuer>`;
  const extensions = input.extensionsXml ? `<samlp:Extensions>${input.extensionsXml}</samlp:Extensions>` : '';
  const xml =
    head +
    extensions +
    `<samlp:NameIDPolicy AllowCreate="true" Format="${a(input.nameIdFormat ?? NAMEID_UNSPECIFIED)}"></samlp:NameIDPolicy>` +
    `<samlp:RequestedAuthnContext Comparison="minimum">` +
    `<saml:AuthnContextClassRef xmlns:saml="${NS.assertion}">${c14nText(input.minimumLoa)}</saml:AuthnContextClassRef>` +
    `</samlp:RequestedAuthnContext>` +
    `</samlp:AuthnRequest>`;
  return { id, xml, signatureAt: head.length };
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
  const { id, xml, signatureAt } = buildAuthnRequest(input);
  return { id, xml: await signCanonicalXml(xml, { id, signatureAt, signer, certificatePem }) };
}
