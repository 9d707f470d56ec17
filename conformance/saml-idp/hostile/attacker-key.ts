/**
 * An attacker's signing identity: a fresh RSA key and a self-signed certificate that no deployment
 * trusts. Used for KeyInfo substitution (the attacker re-signs and puts its own certificate inline).
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A PEM key pair with its certificate. */
export interface AttackerKey {
  privateKeyPem: string;
  certPem: string;
}

/**
 * Makes a new attacker key (RSA 2048, SHA-256, self-signed, valid one day).
 *
 * @example const attacker = await makeAttackerKey(); signSamlElement(xml, { key: attacker, target: 'assertion' });
 */
export async function makeAttackerKey(): Promise<AttackerKey> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a',
    name: 'CN=Conformance suite attacker',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: alg,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
  return { privateKeyPem, certPem: cert.toString('pem') };
}
