/**
 * DPoP proofs as the checks need them, honest or broken (RFC 9449 §4.2): typ `dpop+jwt`, ES256, the public
 * JWK in the header, htm/htu/iat/jti (and ath at resources). Every field can be falsified.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** A DPoP key pair and its public JWK. */
export interface DpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A new ES256 DPoP key. */
export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

/** What a proof may falsify. */
export interface ProofInput {
  htm: string;
  htu: string;
  /** The access token, to compute `ath` (resource requests). */
  accessToken?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
  jti?: string;
  typ?: string;
  /** Header JWK (default the key's public JWK). */
  jwk?: JWK;
  /** Sign with this key instead (signature will not match the header JWK). */
  signWith?: CryptoKey;
  ath?: string;
  nonce?: string;
}

/** base64url(SHA-256(access token)). */
export function ath(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/**
 * A DPoP proof JWT.
 *
 * @example const proof = await dpopProof(key, { htm: 'POST', htu: tokenEndpoint });
 */
export async function dpopProof(key: DpopKey, input: ProofInput): Promise<string> {
  const claims: Record<string, unknown> = { htm: input.htm, htu: input.htu, jti: input.jti ?? randomUUID() };
  if (input.accessToken !== undefined || input.ath !== undefined)
    claims.ath = input.ath ?? ath(input.accessToken ?? '');
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: input.typ ?? 'dpop+jwt', jwk: input.jwk ?? key.publicJwk })
    .setIssuedAt(input.iat ?? Math.floor(Date.now() / 1000))
    .sign(input.signWith ?? key.privateKey);
}

/** An unsigned proof (`alg: none`). */
export function unsignedProof(key: DpopKey, input: ProofInput): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${part({ htm: input.htm, htu: input.htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) })}.`;
}
