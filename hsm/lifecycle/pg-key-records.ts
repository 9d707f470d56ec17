/**
 * `KeyRecordRepository` on PostgreSQL (tables of `gateway/store/migrations/0100_key_lifecycle.sql`).
 *
 * Why `hsm/` talks to `pg` itself (through an injected `Pool`) rather than through a gateway-side
 * implementation: the key-ceremony CLI (`hsm/cli.ts`) must change the lifecycle without booting a gateway,
 * and `hsm/` may import no code of ours. The pool is the caller's; the schema is migrated by the gateway.
 *
 * - Every mutation runs in one transaction: the version row is locked first (`for update`), so concurrent
 *   ceremonies and schedulers on several instances serialise; the changes, the version bump and the
 *   audit event commit together.
 * - A transition applies only when the row is still in its `from` state; otherwise nothing is applied
 *   and `HSM_LIFECYCLE_STATE` is thrown.
 * - A `generate` holds a session advisory lock named for its token, purpose and algorithm from before the key is
 *   made in the token until its record is committed (`whileGenerating`): an instance opening meanwhile sees the
 *   lock taken (`generating`) and does not adopt the key as active. PostgreSQL releases it if the process dies.
 */
import type { Pool, PoolClient } from 'pg';
import { isAlgorithmName, type AlgorithmName } from '../algorithms.ts';
import { HsmError } from '../errors.ts';
import { isKeyPurpose } from '../key-label.ts';
import type { JsonWebKeyPublic, KeyPurpose, KeyState } from '../signer.ts';
import type { KeyEvent, KeyRecord, KeyRecordRepository, Transition } from './key-record.ts';

interface Row {
  kid: string;
  purpose: string;
  alg: string;
  state: KeyState;
  token_label: string;
  cka_id: string;
  key_label: string;
  public_jwk: JsonWebKeyPublic;
  created_at: Date;
  published_at: Date | null;
  activated_at: Date | null;
  retired_at: Date | null;
  not_after: Date | null;
  destroyed_at: Date | null;
  certificate_pem: string | null;
}

function toRecord(row: Row): KeyRecord {
  if (!isKeyPurpose(row.purpose) || !isAlgorithmName(row.alg)) {
    throw new HsmError('HSM_KEY_MISMATCH', 'a key record names an unknown purpose or algorithm', {
      detail: `kid=${row.kid}`,
    });
  }
  return {
    kid: row.kid,
    purpose: row.purpose,
    alg: row.alg,
    state: row.state,
    tokenLabel: row.token_label,
    ckaId: row.cka_id,
    keyLabel: row.key_label,
    publicJwk: row.public_jwk,
    createdAt: row.created_at,
    publishedAt: row.published_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    notAfter: row.not_after,
    destroyedAt: row.destroyed_at,
    certificatePem: row.certificate_pem,
  };
}

export class PgKeyRecords implements KeyRecordRepository {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async load(tokenLabel: string): Promise<{ version: number; records: KeyRecord[] }> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin isolation level repeatable read read only');
      const version = await this.#version(client);
      const { rows } = await client.query<Row>(
        'select * from key_records where token_label = $1 order by created_at, kid',
        [tokenLabel],
      );
      await client.query('commit');
      return { version, records: rows.map(toRecord) };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw failed(error);
    } finally {
      client.release();
    }
  }

  async version(): Promise<number> {
    try {
      return await this.#version(this.#pool);
    } catch (error) {
      throw failed(error);
    }
  }

  insert(records: KeyRecord[], event: KeyEvent): Promise<number> {
    return this.#mutate(event, async (client) => {
      for (const r of records) {
        await client.query(
          `insert into key_records (kid, purpose, alg, state, token_label, cka_id, key_label, public_jwk, created_at,
             published_at, activated_at, retired_at, not_after, destroyed_at)
           values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
           on conflict (kid) do nothing`,
          [
            r.kid,
            r.purpose,
            r.alg,
            r.state,
            r.tokenLabel,
            r.ckaId,
            r.keyLabel,
            JSON.stringify(r.publicJwk),
            r.createdAt,
            r.publishedAt,
            r.activatedAt,
            r.retiredAt,
            r.notAfter,
            r.destroyedAt,
          ],
        );
      }
    });
  }

  transition(transitions: Transition[], event: KeyEvent): Promise<number> {
    return this.#mutate(event, async (client) => {
      for (const t of transitions) {
        const column = {
          pending: null,
          next: 'published_at',
          active: 'activated_at',
          retired: 'retired_at',
          destroyed: 'destroyed_at',
        }[t.to];
        if (column === null)
          throw new HsmError('HSM_LIFECYCLE_STATE', 'no key returns to pending', { detail: `kid=${t.kid}` });
        const { rowCount } = await client.query(
          `update key_records set state = $3, ${column} = $4, not_after = coalesce($5, not_after) where kid = $1 and state = $2`,
          [t.kid, t.from, t.to, t.at, t.notAfter ?? null],
        );
        if (rowCount !== 1)
          throw new HsmError('HSM_LIFECYCLE_STATE', `the key is no longer ${t.from}`, {
            detail: `kid=${t.kid} to=${t.to}`,
          });
      }
    });
  }

  async setCertificate(kid: string, pem: string, replacing?: string): Promise<string> {
    try {
      await this.#pool.query(
        'update key_records set certificate_pem = $2 where kid = $1 and (certificate_pem is null or certificate_pem = $3)',
        [kid, pem, replacing ?? null],
      );
      const { rows } = await this.#pool.query<{ certificate_pem: string | null }>(
        'select certificate_pem from key_records where kid = $1',
        [kid],
      );
      const stored = rows[0]?.certificate_pem;
      if (!stored) throw new HsmError('HSM_KEY_NOT_FOUND', 'no key record with this kid', { detail: `kid=${kid}` });
      return stored;
    } catch (error) {
      throw failed(error);
    }
  }

  async audit(event: KeyEvent): Promise<void> {
    try {
      await this.#pool.query(
        'insert into key_events (action, kid, actor, version, detail) select $1, $2, $3, version, $4 from key_set_version',
        [event.action, event.kid, event.actor, JSON.stringify(event.detail ?? {})],
      );
    } catch (error) {
      throw failed(error);
    }
  }

  async whileGenerating<T>(
    tokenLabel: string,
    purpose: KeyPurpose,
    alg: AlgorithmName,
    work: () => Promise<T>,
  ): Promise<T> {
    const name = generateLockName(tokenLabel, purpose, alg);
    let client: PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [name]);
    } catch (error) {
      client?.release(true); // a lock that failed (a statement timeout behind another generate): no connection kept
      throw failed(error);
    }
    try {
      return await work();
    } finally {
      // an unlock that fails (the connection broke) leaves nothing held: the lock ends with the session
      const unlocked = await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name]).then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }

  async generating(tokenLabel: string, purpose: KeyPurpose, alg: AlgorithmName): Promise<boolean> {
    try {
      // taken and given back within this one statement when nobody holds it
      const { rows } = await this.#pool.query<{ free: boolean }>(
        'select pg_try_advisory_xact_lock(hashtextextended($1, 0)) as free',
        [generateLockName(tokenLabel, purpose, alg)],
      );
      return rows[0]?.free !== true;
    } catch (error) {
      throw failed(error);
    }
  }

  async #version(q: Pick<Pool, 'query'> | PoolClient): Promise<number> {
    const { rows } = await q.query<{ version: string }>('select version from key_set_version');
    if (rows.length !== 1) throw new HsmError('HSM_RECORDS_FAILED', 'key_set_version is missing: migrate the database');
    return Number(rows[0]!.version);
  }

  async #mutate(event: KeyEvent, work: (client: PoolClient) => Promise<void>): Promise<number> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query('select version from key_set_version for update');
      await work(client);
      const { rows } = await client.query<{ version: string }>(
        'update key_set_version set version = version + 1 returning version',
      );
      const version = Number(rows[0]!.version);
      await client.query('insert into key_events (action, kid, actor, version, detail) values ($1, $2, $3, $4, $5)', [
        event.action,
        event.kid,
        event.actor,
        version,
        JSON.stringify(event.detail ?? {}),
      ]);
      await client.query('commit');
      return version;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw failed(error);
    } finally {
      client.release();
    }
  }
}

/** The advisory lock's name of a `generate` of `purpose` and `alg` on a token. */
function generateLockName(tokenLabel: string, purpose: KeyPurpose, alg: AlgorithmName): string {
  return `gw-key-generate\n${tokenLabel}\n${purpose}\n${alg}`;
}

function failed(error: unknown): HsmError {
  if (error instanceof HsmError) return error;
  return new HsmError('HSM_RECORDS_FAILED', 'the key record store failed', {
    detail: (error as Error)?.message,
    cause: error,
  });
}
