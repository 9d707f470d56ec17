/**
 * A test IdP of the reference protocol (`adapters/reference/`): its own ES256 key made by jose at test time,
 * its public JWK written to a file (as a deployment registers it), and assertions signed as compact JWS with
 * any claim changed for a negative case.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { ASSERTION_TYPE } from '../../../adapters/reference/verify.ts';

export interface ReferenceTestIdp {
  issuer: string;
  publicJwk: JWK;
  publicKeyFile: string;
  /** A compact JWS of `claims` (merged over a valid baseline for `audience`, `nonce`), signed by this IdP. */
  assertion(
    base: { audience: string; nonce: string },
    claims?: Record<string, unknown>,
    options?: SignOptions,
  ): Promise<string>;
}

export interface SignOptions {
  /** Sign with another key (a forged assertion). */
  key?: CryptoKey;
  header?: Record<string, unknown>;
}

export const ADA = {
  given_name: ['Ada'],
  family_name: ['Lovelace'],
  birthdate: ['1815-12-10'],
  email: ['ada@example.org'],
};

export async function createReferenceIdp(issuer = 'https://reference-idp.test.example'): Promise<ReferenceTestIdp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const dir = mkdtempSync(join(tmpdir(), 'reference-idp-'));
  const publicKeyFile = join(dir, 'idp.jwk.json');
  writeFileSync(publicKeyFile, JSON.stringify(publicJwk));
  return {
    issuer,
    publicJwk,
    publicKeyFile,
    async assertion(base, claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        aud: base.audience,
        sub: 'reference-subject-4711',
        jti: randomBytes(16).toString('base64url'),
        nonce: base.nonce,
        loa: 'http://eidas.europa.eu/LoA/substantial',
        iat: now,
        exp: now + 120,
        auth_time: now,
        attributes: ADA,
        ...claims,
      };
      return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE, ...options.header })
        .sign(options.key ?? privateKey);
    },
  };
}

/** Another ES256 key, for forged assertions. */
export async function strangerKey(): Promise<CryptoKey> {
  return (await generateKeyPair('ES256')).privateKey;
}
