/**
 * Self-signed X.509 certificates for token keys (SAML metadata KeyDescriptors need a certificate).
 *
 * - The certificate is built by @peculiar/x509; its signature is computed by the `Signer`, i.e. inside the
 *   token. @peculiar/x509 receives a crypto object of its own whose `subtle.sign` is the signer, so the
 *   process-wide WebCrypto is never replaced.
 * - The signature algorithm comes from the signer's registry row (e.g. ECDSA raw r‖s is DER-encoded by
 *   @peculiar/x509 exactly as for a WebCrypto signature).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { algorithm } from './algorithms.ts';
import { HsmError } from './errors.ts';
import type { Signer } from './signer.ts';

export interface SelfSignedOptions {
  /** Distinguished name, e.g. `CN=gateway SAML signing, O=Example`. */
  subject: string;
  /** Validity in days from `notBefore`. */
  days: number;
  /** Start of validity; default now. */
  notBefore?: Date;
}

/** A WebCrypto whose `subtle.sign` is the token signer; everything else is Node's WebCrypto. */
function signingCrypto(signer: Signer): Crypto {
  const subtle = new Proxy(webcrypto.subtle, {
    get(target, property) {
      if (property === 'sign') {
        return async (_algorithm: unknown, _key: unknown, data: BufferSource): Promise<ArrayBuffer> => {
          const bytes = ArrayBuffer.isView(data)
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
            : new Uint8Array(data);
          const signature = await signer.sign(bytes);
          return signature.slice().buffer as ArrayBuffer;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    subtle,
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: webcrypto.randomUUID.bind(webcrypto),
  } as unknown as Crypto;
}

/**
 * A PEM self-signed certificate for `signer`'s key, signed inside the token.
 *
 * @example
 * ```ts
 * const pem = await selfSignedCertificate(store.activeSigner('saml'), { subject: 'CN=gateway SP', days: 365 });
 * ```
 * @throws HsmError `HSM_CONFIG_INVALID` for a non-positive `days`; the signer's errors when signing fails.
 */
export async function selfSignedCertificate(signer: Signer, options: SelfSignedOptions): Promise<string> {
  if (!Number.isInteger(options.days) || options.days < 1)
    throw new HsmError('HSM_CONFIG_INVALID', 'certificate validity must be a positive number of days');
  const row = algorithm(signer.alg);
  const notBefore = options.notBefore ?? new Date();
  const notAfter = new Date(notBefore.getTime() + options.days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive INTEGER
  const signingKey = {
    algorithm: { ...row.webCrypto },
    type: 'private',
    extractable: false,
    usages: ['sign'],
  } as unknown as CryptoKey;
  const spki = signer.publicKey().export({ format: 'der', type: 'spki' });
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial.toString('hex'),
      subject: options.subject,
      issuer: options.subject,
      notBefore,
      notAfter,
      publicKey: new Uint8Array(spki),
      signingKey,
      signingAlgorithm: { ...row.webCrypto },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    signingCrypto(signer),
  );
  return certificate.toString('pem');
}
