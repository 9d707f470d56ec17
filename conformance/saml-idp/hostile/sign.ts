/**
 * Signs one element of a SAML Response with xml-crypto, with every knob a hostile check needs:
 * signature and digest algorithm (SHA-1 downgrade), canonicalization (#WithComments), transforms (too many),
 * and the key (the genuine IdP key, or an attacker's whose certificate goes inline into KeyInfo).
 *
 * - The Signature is placed after the element's Issuer (SAML schema order), prefix `ds`.
 * - Existing signatures of the element are NOT removed: callers strip them first when re-signing.
 */
import { SignedXml } from 'xml-crypto';

/** XML-DSig algorithm URIs used by the suite. */
export const ALG = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaPssSha256: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excC14nWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

/** How to sign. Unset = what an honest IdP does (rsa-sha256, SHA-256, exc-c14n, enveloped + exc-c14n). */
export interface SignOptions {
  key: { privateKeyPem: string; certPem: string };
  /** Which element: the (first) Assertion, the Response root, or any root (a LogoutRequest). */
  target: 'assertion' | 'response' | 'root';
  /** 0-based index among the Response's Assertion children (default 0). */
  assertionIndex?: number;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  canonicalization?: string;
  transforms?: string[];
  /** HMAC-SHA1 keyed with the certificate PEM (the GHSA-c27r-x354-4m68 key-confusion shape). */
  hmacWithCertificate?: boolean;
}

/**
 * Returns `xml` with the chosen element signed.
 *
 * @example const signed = signSamlElement(xml, { key: idpKey, target: 'assertion', signatureAlgorithm: ALG.rsaSha1, digestAlgorithm: ALG.sha1 });
 */
export function signSamlElement(xml: string, options: SignOptions): string {
  const assertionPath = `/*[local-name(.)='Response']/*[local-name(.)='Assertion'][${(options.assertionIndex ?? 0) + 1}]`;
  const xpath =
    options.target === 'assertion' ? assertionPath : options.target === 'root' ? '/*' : "/*[local-name(.)='Response']";
  const sig = new SignedXml({
    privateKey: options.key.privateKeyPem,
    publicCert: options.key.certPem,
    signatureAlgorithm: options.signatureAlgorithm ?? ALG.rsaSha256,
    canonicalizationAlgorithm: options.canonicalization ?? ALG.excC14n,
  });
  if (options.hmacWithCertificate) {
    sig.enableHMAC();
    sig.signatureAlgorithm = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
    sig.privateKey = options.key.certPem;
  }
  sig.addReference({
    xpath,
    transforms: options.transforms ?? [ALG.enveloped, ALG.excC14n],
    digestAlgorithm: options.digestAlgorithm ?? ALG.sha256,
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}
