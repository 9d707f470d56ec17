/**
 * The records of keys new to the lifecycle: a key just generated in the token, and the token keys an open finds
 * without a record, which it adopts as active only where no live record has their purpose and algorithm (the
 * keys `init` made before the lifecycle, or for a purpose or algorithm the deployment had none of). Any other
 * key without a record is a `generate` under way in another process, between the token and PostgreSQL:
 * adopting it would make active at once, before anyone saw it in `/jwks`, a key meant to be `next`.
 */
import type { AlgorithmName } from '../algorithms.ts';
import type { Pkcs11Signer } from '../pkcs11-signer.ts';
import type { KeyRecord } from './key-record.ts';

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
