/**
 * The WebAuthn credentials of accounts, in PostgreSQL (`webauthn_credentials`, migrations 0400, 0451).
 * Each credential records the policy level it stands in for (credential-levels.ts) and when it was enrolled
 * (the level-3 cool-down counts from there).
 * The counter only moves forward: {@link CredentialStore.advanceCounter} refuses, atomically, a counter
 * that does not grow (`WEBAUTHN_COUNTER_REGRESSION`), unless the authenticator keeps no counter (0 → 0); a key
 * that did so is suspended ({@link CredentialStore.suspend}, migration 0860). The service desk finds a key by the
 * reference the pages show ({@link credentialRef}; column `key_ref`) and removes it.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { WebAuthnError } from './webauthn-error.ts';

export type Attachment = 'platform' | 'cross-platform';

/** How recent a key's last good use may be for a counter that did not grow to be two ceremonies at once, not a clone. */
export const CONCURRENT_USE_SECONDS = 120;

/** How audit records name a credential: a short hash of its id (never the id itself). */
export function credentialRef(credentialId: string): string {
  return createHash('sha256').update(credentialId).digest('base64url').slice(0, 16);
}

export interface StoredCredential {
  credentialId: string;
  accountId: string;
  publicKey: Uint8Array;
  counter: number;
  attachment: Attachment;
  transports: string[];
  userVerified: boolean;
  aaguid: string;
  /** The policy level it stands in for: 2 or 3 (1 = enrolled before issue #10, satisfies nothing). */
  level: 1 | 2 | 3;
  /** The verified attestation statement format (`none` when none was asked for). */
  attestationFormat: string;
  /**
   * Level 3: the SHA-256 fingerprint of the configured root its attestation chain ended at (null: enrolled before
   * roots were recorded, or not attested).
   */
  attestationRoot?: string | null;
  /** The login (interaction uid) that enrolled it: a late fraud verdict on that login removes it. */
  enrolledByLogin?: string;
  /** Set when read from the store. */
  createdAt?: Date;
  lastUsedAt?: Date | null;
  /** When a signed answer showed it cloned (its counter did not grow): it stands in for nothing since. */
  suspendedAt?: Date | null;
}

interface Row {
  credential_id: string;
  account_id: string;
  public_key: Buffer;
  counter: string;
  attachment: Attachment;
  transports: string[];
  user_verified: boolean;
  aaguid: string;
  level: number;
  attestation_format: string;
  attestation_root: string | null;
  created_at: Date;
  last_used_at: Date | null;
  suspended_at: Date | null;
}

const fromRow = (r: Row): StoredCredential => ({
  credentialId: r.credential_id,
  accountId: r.account_id,
  publicKey: new Uint8Array(r.public_key),
  counter: Number(r.counter),
  attachment: r.attachment,
  transports: r.transports,
  userVerified: r.user_verified,
  aaguid: r.aaguid,
  level: r.level as 1 | 2 | 3,
  attestationFormat: r.attestation_format,
  attestationRoot: r.attestation_root,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  suspendedAt: r.suspended_at,
});

export class CredentialStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Whether a credential id is registered, for any account (an id is registered once: WebAuthn L3 §7.1). */
  async has(credentialId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('select 1 from webauthn_credentials where credential_id = $1', [
      credentialId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Stores a newly enrolled credential (on `client`, in its transaction, when given): true, or false when its id
   * is already registered, for any account (the caller refuses it with `WEBAUTHN_CREDENTIAL_ALREADY_REGISTERED`).
   */
  async add(credential: StoredCredential, client?: Pick<PoolClient, 'query'>): Promise<boolean> {
    const { rowCount } = await (client ?? this.#pool).query(
      `insert into webauthn_credentials (credential_id, account_id, public_key, counter, attachment, transports, user_verified, aaguid, level, attestation_format, enrolled_by_login, attestation_root)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       on conflict (credential_id) do nothing`,
      [
        credential.credentialId,
        credential.accountId,
        Buffer.from(credential.publicKey),
        credential.counter,
        credential.attachment,
        credential.transports,
        credential.userVerified,
        credential.aaguid,
        credential.level,
        credential.attestationFormat,
        credential.enrolledByLogin ?? null,
        credential.attestationRoot ?? null,
      ],
    );
    return rowCount === 1;
  }

  /**
   * Removes the credentials the login `loginId` enrolled (on `client`, in its transaction, when given); their ids.
   *
   * @example
   * const removed = await store.removeEnrolledBy(loginId, client); // a late fraud verdict on that login
   */
  async removeEnrolledBy(loginId: string, client?: Pick<PoolClient, 'query'>): Promise<string[]> {
    const { rows } = await (client ?? this.#pool).query<{ credential_id: string }>(
      'delete from webauthn_credentials where enrolled_by_login = $1 returning credential_id',
      [loginId],
    );
    return rows.map((r) => r.credential_id);
  }

  /**
   * The level-3 keys that recorded no attestation root (enrolled before migration 0890), oldest first: they keep
   * level 3 even if their root is taken out of the configuration, so the desk asks their holders to enrol again.
   */
  async levelThreeWithoutRoot(): Promise<StoredCredential[]> {
    const { rows } = await this.#pool.query<Row>(
      'select * from webauthn_credentials where level = 3 and attestation_root is null order by created_at',
    );
    return rows.map(fromRow);
  }

  /** The credentials of an account, optionally only those of one attachment. */
  async ofAccount(accountId: string, attachment?: Attachment): Promise<StoredCredential[]> {
    const { rows } = await this.#pool.query<Row>(
      'select * from webauthn_credentials where account_id = $1 and ($2::text is null or attachment = $2) order by created_at',
      [accountId, attachment ?? null],
    );
    return rows.map(fromRow);
  }

  /** One credential of an account, or `null`. */
  async get(accountId: string, credentialId: string): Promise<StoredCredential | null> {
    const { rows } = await this.#pool.query<Row>(
      'select * from webauthn_credentials where account_id = $1 and credential_id = $2',
      [accountId, credentialId],
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** The key a reference names ({@link credentialRef}, as the pages show it), with its account, or `null`. */
  async byRef(ref: string): Promise<StoredCredential | null> {
    const { rows } = await this.#pool.query<Row>('select * from webauthn_credentials where key_ref = $1', [ref]);
    if (rows.length > 1) throw new Error(`several keys have reference ${ref}`);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Suspends a key (on `client`, in its transaction): it stands in for nothing from now on. True when this call
   * suspended it; false when it was already suspended or is gone, or when its last good use is less than
   * {@link CONCURRENT_USE_SECONDS} old: two ceremonies of the person's own at once (two tabs), whose answers
   * arrived out of order, are refused, not taken for a clone.
   */
  async suspend(credentialId: string, reason: string, client: Pick<PoolClient, 'query'>): Promise<boolean> {
    const { rowCount } = await client.query(
      `update webauthn_credentials set suspended_at = now(), suspended_reason = $2
       where credential_id = $1 and suspended_at is null
         and (last_used_at is null or last_used_at < now() - make_interval(secs => $3))`,
      [credentialId, reason, CONCURRENT_USE_SECONDS],
    );
    return rowCount === 1;
  }

  /** Removes one key (on `client`, in its transaction); whether it was there. */
  async remove(credentialId: string, client: Pick<PoolClient, 'query'>): Promise<boolean> {
    const { rowCount } = await client.query('delete from webauthn_credentials where credential_id = $1', [
      credentialId,
    ]);
    return rowCount === 1;
  }

  /**
   * Moves the counter to `next` and stamps the use; throws `WEBAUTHN_COUNTER_REGRESSION` when `next` is
   * not greater than the stored value (both 0: an authenticator without a counter, accepted), or when the key was
   * suspended meanwhile (an answer in flight as it was suspended completes nothing).
   */
  async advanceCounter(credentialId: string, next: number): Promise<void> {
    const { rowCount } = await this.#pool.query(
      `update webauthn_credentials set counter = $2, last_used_at = now()
       where credential_id = $1 and suspended_at is null and (counter < $2 or (counter = 0 and $2 = 0))`,
      [credentialId, next],
    );
    if (rowCount !== 1)
      throw new WebAuthnError('WEBAUTHN_COUNTER_REGRESSION', 'This security key could not be accepted.', {
        detail: `counter ${next}`,
      });
  }
}
