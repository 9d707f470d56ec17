/**
 * The lifecycle record of one token key, and the repository that persists records (PostgreSQL in the
 * gateway: `hsm/lifecycle/pg-key-records.ts`).
 *
 * - A record holds public data only: kid, purpose, algorithm, state, times, the token reference
 *   (token label + CKA_ID hex) and the public JWK. Never key bytes.
 * - States move only along {@link TRANSITIONS}: pending → next → active → retired → destroyed (and
 *   pending/next may be destroyed when a ceremony is abandoned). Anything else throws
 *   `HSM_LIFECYCLE_STATE`; there is no default branch.
 * - Every change bumps one key-set version, atomically with the change and its audit event, so that
 *   every gateway instance can tell that it is behind.
 */
import type { AlgorithmName } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import type { JsonWebKeyPublic, KeyPurpose, KeyState } from '../signer.ts';

export interface KeyRecord {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: AlgorithmName;
  readonly state: KeyState;
  /** Label of the token holding the private key. */
  readonly tokenLabel: string;
  /** CKA_ID of the key pair, hex. */
  readonly ckaId: string;
  /** CKA_LABEL of the key pair. */
  readonly keyLabel: string;
  readonly publicJwk: JsonWebKeyPublic;
  readonly createdAt: Date;
  /** When it was first published (`next`). */
  readonly publishedAt: Date | null;
  readonly activatedAt: Date | null;
  readonly retiredAt: Date | null;
  /** End of publication of a retired key: after it, the key may be destroyed. */
  readonly notAfter: Date | null;
  readonly destroyedAt: Date | null;
  /** PEM certificate of the public key (SAML KeyDescriptor), once made; the same for every instance. */
  readonly certificatePem: string | null;
}

/** One state change, applied only if the record is still in `from` (optimistic check). */
export interface Transition {
  kid: string;
  from: KeyState;
  to: KeyState;
  at: Date;
  /** For `retired`: end of publication. */
  notAfter?: Date;
}

/** An entry of the key-ceremony audit trail. */
export interface KeyEvent {
  action: string;
  kid: string | null;
  actor: string;
  detail?: Record<string, unknown>;
}

/**
 * Where records live. Every mutation bumps the key-set version in the same transaction and returns it.
 * Implementations: `PgKeyRecords` (PostgreSQL).
 */
export interface KeyRecordRepository {
  /** Every record of a token (destroyed ones included), and the version they were read at. */
  load(tokenLabel: string): Promise<{ version: number; records: KeyRecord[] }>;
  /** The current key-set version (cheap; polled). */
  version(): Promise<number>;
  /** Inserts new records (keys just generated or adopted); a kid already recorded is left as it is. */
  insert(records: KeyRecord[], event: KeyEvent): Promise<number>;
  /**
   * Applies transitions atomically. @throws HsmError `HSM_LIFECYCLE_STATE` when a record is no longer in
   * its `from` state (another instance moved it): nothing is applied.
   */
  transition(transitions: Transition[], event: KeyEvent): Promise<number>;
  /**
   * Stores `pem` as the key's certificate unless one is stored already (or the one stored is `replacing`: a
   * certificate found not to certify the key); returns the stored one.
   */
  setCertificate(kid: string, pem: string, replacing?: string): Promise<string>;
  /** Appends an audit event without changing keys (e.g. an export). */
  audit(event: KeyEvent): Promise<void>;
  /**
   * Runs `work` (a `generate`: the key made in the token, then recorded) holding the mark of a generate of `purpose`
   * and `alg` on the token `tokenLabel`, which every instance sees until `work` settles (or its process dies).
   */
  whileGenerating<T>(tokenLabel: string, purpose: KeyPurpose, alg: AlgorithmName, work: () => Promise<T>): Promise<T>;
  /** Whether another process is inside {@link whileGenerating} for `purpose` and `alg` on `tokenLabel` now. */
  generating(tokenLabel: string, purpose: KeyPurpose, alg: AlgorithmName): Promise<boolean>;
}

/** The allowed moves, as a table. */
export const TRANSITIONS: Readonly<Record<KeyState, readonly KeyState[]>> = Object.freeze({
  pending: ['next', 'destroyed'],
  next: ['active', 'destroyed'],
  active: ['retired'],
  retired: ['destroyed'],
  destroyed: [],
});

/** @throws HsmError `HSM_LIFECYCLE_STATE` unless `from → to` is in {@link TRANSITIONS}. */
export function checkTransition(kid: string, from: KeyState, to: KeyState): void {
  const allowed = TRANSITIONS[from];
  if (!allowed || !allowed.includes(to)) {
    throw new HsmError('HSM_LIFECYCLE_STATE', `a ${from} key cannot become ${to}`, { detail: `kid=${kid}` });
  }
}

/** The record after a transition (times filled in). */
export function applyTransition(record: KeyRecord, t: Transition): KeyRecord {
  checkTransition(record.kid, record.state, t.to);
  switch (t.to) {
    case 'next':
      return { ...record, state: 'next', publishedAt: t.at };
    case 'active':
      return { ...record, state: 'active', activatedAt: t.at };
    case 'retired':
      return { ...record, state: 'retired', retiredAt: t.at, notAfter: t.notAfter ?? t.at };
    case 'destroyed':
      return { ...record, state: 'destroyed', destroyedAt: t.at };
    case 'pending':
      throw new HsmError('HSM_LIFECYCLE_STATE', 'no key returns to pending', { detail: `kid=${record.kid}` });
    default: {
      const unknown: never = t.to;
      throw new HsmError('HSM_LIFECYCLE_STATE', `unknown key state ${String(unknown)}`, {
        detail: `kid=${record.kid}`,
      });
    }
  }
}
