/**
 * The records of keys new to the lifecycle: a key just generated in the token, and the token keys an open finds
 * without a record, which it adopts as active only where no live record has their purpose and algorithm (the
 * keys `init` made before the lifecycle, or for a purpose or algorithm the deployment had none of). Any other
 * key without a record is a `generate` under way in another process, between the token and PostgreSQL:
 * adopting it would make active at once, before anyone saw it in `/jwks`, a key meant to be `next`.
 */
import type { AlgorithmName } from '../algorithms.ts';
import type { Pkcs11Signer } from '../pkcs11-signer.ts';
import type { TokenKeyStore } from '../token-keystore.ts';
import type { KeyRecord, KeyRecordRepository } from './key-record.ts';

/** What a key entering the lifecycle is: a token key's signer, or an in-process key's own fields (`hsm/pq/`). */
export type NewKey = Pick<Pkcs11Signer, 'kid' | 'purpose' | 'ckaId' | 'publicJwk'> & {
  alg: AlgorithmName;
  label: string;
};

/** The record of a key entering the lifecycle in `state` at `at`. */
export function newRecord(key: NewKey, tokenLabel: string, state: 'pending' | 'next' | 'active', at: Date): KeyRecord {
  return {
    kid: key.kid,
    purpose: key.purpose,
    alg: key.alg,
    state,
    tokenLabel,
    ckaId: key.ckaId,
    keyLabel: key.label,
    publicJwk: { ...key.publicJwk },
    createdAt: at,
    publishedAt: state === 'pending' ? null : at,
    activatedAt: state === 'active' ? at : null,
    retiredAt: null,
    notAfter: null,
    destroyedAt: null,
    certificatePem: null,
  };
}

/** Of the token keys without a record: those adopted as active, and the labels of those left out. */
export function adoptable(
  signers: readonly Pkcs11Signer[],
  records: ReadonlyMap<string, KeyRecord>,
): { adopt: Pkcs11Signer[]; unrecorded: string[] } {
  const live = [...records.values()].filter((r) => r.state !== 'destroyed');
  const orphans = signers.filter((signer) => !records.has(signer.kid));
  const covered = (s: Pkcs11Signer) => live.some((r) => r.purpose === s.purpose && r.alg === s.alg);
  return {
    adopt: orphans.filter((s) => !covered(s)),
    unrecorded: orphans.filter(covered).map((s) => s.label),
  };
}

/**
 * Of the keys {@link adoptable} would adopt (no live record has their purpose and algorithm: an `init` key), those a
 * `generate` under way in another process holds (its mark, `KeyRecordRepository.generating`: its record not written
 * yet) are left for their own record: their labels.
 */
export async function notGenerating(
  candidates: readonly Pkcs11Signer[],
  records: Pick<KeyRecordRepository, 'generating'>,
  tokenLabel: string,
): Promise<{ adopt: Pkcs11Signer[]; underWay: string[] }> {
  const adopt: Pkcs11Signer[] = [];
  const underWay: string[] = [];
  for (const signer of candidates)
    if (await records.generating(tokenLabel, signer.purpose, signer.alg)) underWay.push(signer.label);
    else adopt.push(signer);
  return { adopt, underWay };
}

/**
 * After a `generate` whose record insert failed: its key taken off the token again when PostgreSQL says it has no
 * record of it (an insert whose answer was lost may have committed), or the next open would adopt a key of a purpose
 * and algorithm nobody has as active at once, with no lead time. When PostgreSQL cannot say, the key stays (named
 * `HSM_KEY_UNRECORDED` at boot when its purpose and algorithm are covered). Never throws.
 */
export async function forgetUnrecorded(
  records: Pick<KeyRecordRepository, 'load'>,
  tokens: Pick<TokenKeyStore, 'token' | 'destroyKey'>,
  kid: string,
): Promise<void> {
  const recorded = await records.load(tokens.token.label).then(
    ({ records: rows }) => rows.some((r) => r.kid === kid),
    () => true,
  );
  if (!recorded) await tokens.destroyKey(kid).catch(() => undefined);
}
