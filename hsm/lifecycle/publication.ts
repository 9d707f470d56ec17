/**
 * What the lifecycle publishes for its keys, and where each part comes from: the *state* from the key records in
 * PostgreSQL, the *key material* from the token (reviewer finding, twenty-seventh round: a row someone with the
 * database alone inserted or edited put an outsider's key in `/jwks`, or an outsider's certificate in the SAML
 * metadata, and RPs took that key's tokens for ours).
 *
 * - {@link publishedKeys}: active, next, then retired-but-not-expired keys of a purpose, each with the public key
 *   of the token key of its kid (a record's own `public_jwk` is never believed; a record naming no token key, or one
 *   of another purpose or algorithm, is left out). The experimental in-process keys (ML-DSA, `hsm/pq/`) have no
 *   token key: published only by a store that uses them (the key CLI; the gateway signs with none), each rebuilt as
 *   an `AKP` key whose thumbprint is its kid (their wrapped key is checked against the record when a signer is made).
 * - {@link certifiesKey}: whether a stored certificate certifies a key (a record's certificate is served only for
 *   the token's own key of that kid).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { algorithm, type AlgorithmName } from '../algorithms.ts';
import type { JsonWebKeyPublic, KeyPurpose } from '../signer.ts';
import type { KeyRecord } from './key-record.ts';

/** The time a record entered its current state, for newest-first ordering. */
export const stamp = (r: KeyRecord): number => (r.retiredAt ?? r.activatedAt ?? r.publishedAt ?? r.createdAt).getTime();

const PUBLISH_ORDER: Readonly<Record<string, number>> = { active: 0, next: 1, retired: 2 };

/** A key the token holds, as far as publication needs it. */
export interface HeldKey {
  purpose: KeyPurpose;
  alg: AlgorithmName;
  publicJwk: Readonly<JsonWebKeyPublic>;
}

/**
 * @example
 * publishedKeys(keys.records('id_token'), heldByKid, Date.now(), (alg) => tokens.algorithmRank('id_token', alg))
 */
export function publishedKeys(
  records: readonly KeyRecord[],
  held: ReadonlyMap<string, HeldKey>,
  now: number,
  rank: (alg: AlgorithmName) => number,
  /** Whether in-process (experimental) records are published at all: only where they are used (the key CLI). */
  inProcess = false,
): JsonWebKeyPublic[] {
  const inProcessJwks = new Map<string, JsonWebKeyPublic>();
  return records
    .filter((r) => {
      if (algorithm(r.alg).custody === 'process') {
        const jwk = inProcess ? inProcessJwk(r) : undefined;
        if (jwk !== undefined) inProcessJwks.set(r.kid, jwk);
        return jwk !== undefined;
      }
      const key = held.get(r.kid);
      return key !== undefined && key.purpose === r.purpose && key.alg === r.alg;
    })
    .filter(
      (r) =>
        r.state === 'active' || r.state === 'next' || (r.state === 'retired' && (r.notAfter?.getTime() ?? 0) > now),
    )
    .sort(
      (a, b) => PUBLISH_ORDER[a.state]! - PUBLISH_ORDER[b.state]! || rank(a.alg) - rank(b.alg) || stamp(b) - stamp(a),
    )
    .map((r) => ({ ...(held.get(r.kid)?.publicJwk ?? inProcessJwks.get(r.kid)!) }));
}

/**
 * An in-process record's public key, rebuilt from its own members: an `AKP` key of the record's algorithm whose
 * RFC 7638 thumbprint is the record's kid (as `hsm/pq/` makes it), or `undefined`. A row anyone with the database
 * wrote with another key type (an RSA key under an ML-DSA row) or another kid publishes nothing.
 */
export function inProcessJwk(r: KeyRecord): JsonWebKeyPublic | undefined {
  const jwk = r.publicJwk as unknown as Record<string, unknown>;
  if (jwk.kty !== 'AKP' || jwk.alg !== r.alg || typeof jwk.pub !== 'string') return undefined;
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ alg: r.alg, kty: 'AKP', pub: jwk.pub }))
    .digest('base64url');
  if (thumbprint !== r.kid) return undefined;
  return { kty: 'AKP', alg: r.alg, pub: jwk.pub, kid: r.kid, use: 'sig' } as unknown as JsonWebKeyPublic;
}

const MATERIAL = ['kty', 'crv', 'x', 'y', 'n', 'e', 'pub'] as const;

/**
 * Whether `pem` certifies `key`: the certificate's public key is the key's (`kty`, and `crv`/`x`/`y` or `n`/`e`).
 *
 * @example
 * certifiesKey(record.certificatePem, signer.publicJwk) // false for a certificate of another key, or no certificate
 */
export function certifiesKey(pem: string, key: Readonly<JsonWebKeyPublic>): boolean {
  try {
    const certified = new X509Certificate(pem).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const own = key as unknown as Record<string, unknown>;
    return MATERIAL.every((member) => certified[member] === own[member]);
  } catch {
    return false;
  }
}
