/**
 * Enveloped XML signatures made inside the HSM: xml-crypto builds SignedInfo, and a SignatureMethod class
 * whose `getSignature(signedInfo, key, callback)` calls `Signer.sign()` produces the value
 * (research/hsm-signing-design.md §5). No private key is in this process.
 *
 * - SignatureMethod and DigestMethod come from the signer's `hsm/` registry row (no default, no SHA-1).
 * - exc-c14n; one Reference to `#ID` of the root with transforms enveloped-signature + exc-c14n.
 * - KeyInfo carries the given certificate.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import { samlError } from './errors.ts';
import { TRANSFORM } from './xml/namespaces.ts';
import { restrictAlgorithms } from './xmldsig.ts';

export interface SignXmlOptions {
  signer: Signer;
  /** PEM certificate of the signer's key, published in KeyInfo. */
  certificatePem: string;
  /** Where the Signature goes: right after the root's child with this local name, or first child. */
  after?: string;
}

/**
 * Signs the root element of `xml` (which must carry an `ID`) and returns the signed document.
 *
 * @example
 * const signed = await signXml(authnRequestXml, { signer: keys.activeSigner('saml'), certificatePem, after: 'Issuer' });
 */
export async function signXml(xml: string, options: SignXmlOptions): Promise<string> {
  const { signer, certificatePem } = options;
  assertCertificateMatches(signer, certificatePem);
  const row = xmlDsigAlgorithm(signer.alg);
  const sig = new SignedXml({
    publicCert: certificatePem,
    privateKey: signer.kid,
    signatureAlgorithm: row.xmlDsig.signatureMethod,
    canonicalizationAlgorithm: TRANSFORM.excC14n,
  });
  restrictAlgorithms(sig, [row.xmlDsig.signatureMethod]);
  sig.SignatureAlgorithms[row.xmlDsig.signatureMethod] = hsmSignatureMethod(
    signer,
    row.xmlDsig.signatureMethod,
  ) as never;
  sig.addReference({
    xpath: '/*',
    transforms: [TRANSFORM.enveloped, TRANSFORM.excC14n],
    digestAlgorithm: row.xmlDsig.digestMethod,
  });
  const location = options.after
    ? { reference: `/*/*[local-name(.)='${options.after}']`, action: 'after' as const }
    : { reference: '/*', action: 'prepend' as const };
  try {
    await new Promise<void>((resolve, reject) => {
      sig.computeSignature(xml, { prefix: 'ds', location }, (error) => (error ? reject(error) : resolve()));
    });
  } catch (cause) {
    throw samlError('SAML_SIGNING_FAILED', { detail: `kid ${signer.kid}`, cause });
  }
  return sig.getSignedXml();
}

/** A SignatureMethod class bound to one `Signer`: async `getSignature` through the HSM. */
function hsmSignatureMethod(signer: Signer, uri: string) {
  return class {
    getAlgorithmName = (): string => uri;
    verifySignature = (): never => {
      throw new Error('signing-only algorithm');
    };
    getSignature = (
      signedInfo: string | Uint8Array,
      _key: unknown,
      callback?: (e: Error | null, v?: string) => void,
    ): void => {
      if (!callback) throw new Error('HSM signing is asynchronous: call computeSignature with a callback');
      const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : signedInfo;
      signer.sign(data).then(
        (value) => callback(null, Buffer.from(value).toString('base64')),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    };
  };
}

/** The public key of each certificate PEM already parsed (our own `saml` key certificates, a few). */
const certificateKeys = new Map<string, KeyObject>();

/**
 * Refuses a certificate that does not hold `signer`'s public key (`SAML_CONFIG_INVALID`), at every
 * signature; the certificate itself is parsed once per PEM (issue #14: it was parsed at every signature).
 */
export function assertCertificateMatches(signer: Signer, certificatePem: string): void {
  let matches = false;
  try {
    let key = certificateKeys.get(certificatePem);
    if (!key) {
      key = new X509Certificate(certificatePem).publicKey;
      if (certificateKeys.size >= 256) certificateKeys.delete(certificateKeys.keys().next().value!);
      certificateKeys.set(certificatePem, key);
    }
    matches = key.equals(signer.publicKey());
  } catch (cause) {
    throw samlError('SAML_CONFIG_INVALID', { detail: 'signing certificate does not parse', cause });
  }
  if (!matches)
    throw samlError('SAML_CONFIG_INVALID', { detail: `certificate does not belong to signer ${signer.kid}` });
}
