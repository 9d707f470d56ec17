/**
 * The suite eIDAS node's software keys (it plays an outside party, so its keys are files, never the
 * gateway's HSM): an RSA 3072 signing key (RSA-PSS, or PKCS#1 v1.5 for the hostile checks), an EC P-256
 * signing key (ECDSA), and the federation key whose certificate is the metadata trust anchor the operator
 * registers. Each key and its self-signed certificate (@peculiar/x509, 2 years) are kept in `dir`, so a
 * registration survives suite runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** One key: its private key and PEM certificate. */
export interface NodeKey {
  privateKey: KeyObject;
  /** PKCS#8 PEM of the private key (xml-crypto takes PEM). */
  privateKeyPem: string;
  certificatePem: string;
}

/** Every key of the node. */
export interface NodeKeys {
  /** RSA 3072: RSA-PSS signatures (and PKCS#1 v1.5 for hostile checks). */
  rsa: NodeKey;
  /** EC P-256: ECDSA signatures. */
  ec: NodeKey;
  /** Signs the node's metadata; its certificate is the trust anchor the operator registers. */
  federation: NodeKey;
  dir: string;
}

const SPECS = {
  rsa: {
    subject: 'CN=Conformance eIDAS node signing (RSA)',
    algorithm: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 3072,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
  },
  ec: {
    subject: 'CN=Conformance eIDAS node signing (EC)',
    algorithm: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  },
  federation: {
    subject: 'CN=Conformance eIDAS metadata trust anchor',
    algorithm: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 3072,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
  },
} as const;

function pem(label: string, der: ArrayBuffer): string {
  const body =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

async function makeKey(spec: (typeof SPECS)[keyof typeof SPECS]): Promise<{ keyPem: string; certPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(spec.algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: spec.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 730 * 86_400_000),
    signingAlgorithm: spec.algorithm,
    keys,
  });
  return {
    keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    certPem: certificate.toString('pem'),
  };
}

async function loadOrMake(dir: string, name: keyof typeof SPECS): Promise<NodeKey> {
  const keyFile = join(dir, `${name}.key.pem`);
  const certFile = join(dir, `${name}.cert.pem`);
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const made = await makeKey(SPECS[name]);
    writeFileSync(keyFile, made.keyPem, { mode: 0o600 });
    writeFileSync(certFile, made.certPem);
  }
  const privateKeyPem = readFileSync(keyFile, 'utf8');
  return { privateKey: createPrivateKey(privateKeyPem), privateKeyPem, certificatePem: readFileSync(certFile, 'utf8') };
}

/**
 * Loads the node's keys from `dir`, making the missing ones.
 *
 * @example const keys = await ensureNodeKeys('var/conformance-eidas-node'); keys.federation.certificatePem
 */
export async function ensureNodeKeys(dir: string): Promise<NodeKeys> {
  mkdirSync(dir, { recursive: true });
  return {
    rsa: await loadOrMake(dir, 'rsa'),
    ec: await loadOrMake(dir, 'ec'),
    federation: await loadOrMake(dir, 'federation'),
    dir,
  };
}

/** The base64 body of a PEM certificate (for ds:X509Certificate). */
export function certificateBody(pemText: string): string {
  return pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}
