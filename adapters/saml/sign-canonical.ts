/**
 * The enveloped XML signature of a document we wrote ourselves in its exclusive-c14n form
 * (`authn-request.ts`), made inside the HSM without parsing or canonicalising anything (issue #14: xml-crypto
 * parsed, cloned, serialised and canonicalised the AuthnRequest several times per login, ~2 ms).
 *
 * - The same signature `sign-xml.ts` makes with xml-crypto: SignatureMethod and DigestMethod from the
 *   signer's `hsm/` registry row (no default, no SHA-1); CanonicalizationMethod exc-c14n; one Reference to
 *   `#ID` of the root with transforms enveloped-signature + exc-c14n; KeyInfo with the given certificate
 *   (xml-crypto's `getKeyInfoContent`); the Signature right after Issuer.
 * - DigestValue: the digest of the document as given. The enveloped-signature transform removes the
 *   Signature, and the exc-c14n of a document written in that form is the document itself, so this is
 *   what a verifier computes. That the builders write that form is what the tests check, against
 *   xml-crypto's canonicalisation and signature check and against xmlsec1, for every registry row.
 * - SignatureValue: `Signer.sign()` over SignedInfo written in its canonical form (the `ds` namespace
 *   declared on it, as exc-c14n renders the apex of what it canonicalises).
 * - The certificate must hold the signer's public key (`SAML_CONFIG_INVALID`), checked at every signature.
 */
import { createHash } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import { samlError } from './errors.ts';
import { assertCertificateMatches } from './sign-xml.ts';
import { c14nAttribute } from './xml/canonical.ts';
import { NS, TRANSFORM } from './xml/namespaces.ts';
import { digestHashOf } from './xmldsig.ts';

export interface SignCanonicalOptions {
  signer: Signer;
  /** PEM certificate of the signer's key, published in KeyInfo. */
  certificatePem: string;
  /** The root's ID (the Reference URI is `#id`). */
  id: string;
  /** Offset in the document where the Signature is inserted (right after Issuer). */
  signatureAt: number;
}

/** KeyInfo content per certificate PEM (xml-crypto's, made once per certificate). */
const keyInfos = new Map<string, string>();

function keyInfoOf(certificatePem: string): string {
  let keyInfo = keyInfos.get(certificatePem);
  if (keyInfo === undefined) {
    const content = SignedXml.getKeyInfoContent({ publicCert: certificatePem, prefix: 'ds' });
    keyInfo = content ? `<ds:KeyInfo>${content}</ds:KeyInfo>` : '';
    if (keyInfos.size >= 256) keyInfos.delete(keyInfos.keys().next().value!);
    keyInfos.set(certificatePem, keyInfo);
  }
  return keyInfo;
}

/**
 * Signs the root of `canonicalXml` (a document in its exclusive-c14n form whose root carries `ID="id"`) and
 * returns the signed document.
 *
 * @example
 * const { id, xml, signatureAt } = buildAuthnRequest(input);
 * const signed = await signCanonicalXml(xml, { id, signatureAt, signer, certificatePem });
 */
export async function signCanonicalXml(canonicalXml: string, options: SignCanonicalOptions): Promise<string> {
  const { signer, certificatePem, id, signatureAt } = options;
  assertCertificateMatches(signer, certificatePem);
  const row = xmlDsigAlgorithm(signer.alg);
  const digest = createHash(digestHashOf(row.xmlDsig.digestMethod)).update(canonicalXml, 'utf8').digest('base64');
  const inner =
    `<ds:CanonicalizationMethod Algorithm="${TRANSFORM.excC14n}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${row.xmlDsig.signatureMethod}"></ds:SignatureMethod>` +
    `<ds:Reference URI="#${c14nAttribute(id)}"><ds:Transforms>` +
    `<ds:Transform Algorithm="${TRANSFORM.enveloped}"></ds:Transform>` +
    `<ds:Transform Algorithm="${TRANSFORM.excC14n}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${row.xmlDsig.digestMethod}"></ds:DigestMethod>` +
    `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
  let signatureValue: string;
  try {
    const signedInfo = Buffer.from(`<ds:SignedInfo xmlns:ds="${NS.dsig}">${inner}</ds:SignedInfo>`, 'utf8');
    signatureValue = Buffer.from(await signer.sign(signedInfo)).toString('base64');
  } catch (cause) {
    throw samlError('SAML_SIGNING_FAILED', { detail: `kid ${signer.kid}`, cause });
  }
  const signature =
    `<ds:Signature xmlns:ds="${NS.dsig}"><ds:SignedInfo>${inner}</ds:SignedInfo>` +
    `<ds:SignatureValue>${signatureValue}</ds:SignatureValue>${keyInfoOf(certificatePem)}</ds:Signature>`;
  return canonicalXml.slice(0, signatureAt) + signature + canonicalXml.slice(signatureAt);
}
