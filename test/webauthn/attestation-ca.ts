/**
 * A test attestation PKI: a root CA and a batch certificate for a "security key model", as a vendor
 * would ship them (packed attestation, FIDO 2 §8.2.1: OU "Authenticator Attestation", CA:false, v3).
 */
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface AttestationPki {
  rootPem: string;
  leafDer: Uint8Array;
  leafKey: webcrypto.CryptoKey;
}

/** A root and one batch (leaf) certificate with its private key. */
export async function attestationPki(name: string): Promise<AttestationPki> {
  const rootKeys = (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 86_400_000);
  const notAfter = new Date(Date.now() + 365 * 86_400_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name} Root CA, O=${name}, C=FR`,
    notBefore,
    notAfter,
    keys: rootKeys as CryptoKeyPair,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `CN=${name} Key Batch 1, OU=Authenticator Attestation, O=${name}, C=FR`,
    issuer: root.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey as CryptoKey,
    signingKey: rootKeys.privateKey as CryptoKey,
    signingAlgorithm: ES256,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return { rootPem: root.toString('pem'), leafDer: new Uint8Array(leaf.rawData), leafKey: leafKeys.privateKey };
}
