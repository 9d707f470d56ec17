/**
 * Where the wrapped private keys of in-process signing rows live: the `WrappedKeyRepository` seam and its
 * PostgreSQL implementation (`wrapped_signing_keys`, migration 0110), through an injected `pg.Pool`.
 *
 * - A row holds the private key wrapped under the token's KEK (never the key), the KEK's CKA_ID and token,
 *   and the wrapping mechanism. The public data and the lifecycle state are the key's `key_records` row.
 * - `remove` (on destroy) deletes the wrapped bytes: without them the key is gone (crypto-shredding),
 *   even from backups taken afterwards.
 */
import type { Pool } from 'pg';
import { HsmError } from '../errors.ts';

export interface WrappedKey {
  readonly kid: string;
  readonly alg: string;
  readonly tokenLabel: string;
  readonly kekId: string;
  readonly wrapMechanism: string;
  readonly wrapped: Buffer;
}

export interface WrappedKeyRepository {
  insert(key: WrappedKey): Promise<void>;
  /** @throws HsmError `HSM_KEY_NOT_FOUND` */
  get(kid: string): Promise<WrappedKey>;
  remove(kid: string): Promise<void>;
}

interface Row {
  kid: string;
  alg: string;
  token_label: string;
  kek_id: string;
  wrap_mechanism: string;
  wrapped: Buffer;
}

export class PgWrappedKeys implements WrappedKeyRepository {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async insert(key: WrappedKey): Promise<void> {
    await this.#query(
      'insert into wrapped_signing_keys (kid, alg, token_label, kek_id, wrap_mechanism, wrapped) values ($1,$2,$3,$4,$5,$6)',
      [key.kid, key.alg, key.tokenLabel, key.kekId, key.wrapMechanism, key.wrapped],
    );
  }

  async get(kid: string): Promise<WrappedKey> {
    const rows = await this.#query('select * from wrapped_signing_keys where kid = $1', [kid]);
    const row = rows[0];
    if (!row) throw new HsmError('HSM_KEY_NOT_FOUND', 'no wrapped private key for this kid', { detail: `kid=${kid}` });
    return {
      kid: row.kid,
      alg: row.alg,
      tokenLabel: row.token_label,
      kekId: row.kek_id,
      wrapMechanism: row.wrap_mechanism,
      wrapped: row.wrapped,
    };
  }

  async remove(kid: string): Promise<void> {
    await this.#query('delete from wrapped_signing_keys where kid = $1', [kid]);
  }

  async #query(text: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>(text, values)).rows;
    } catch (error) {
      throw new HsmError('HSM_RECORDS_FAILED', 'the wrapped-key store failed', {
        detail: (error as Error)?.message,
        cause: error,
      });
    }
  }
}
