/**
 * `DekRepository` on PostgreSQL (`dek_records`, migration `gateway/store/migrations/0110_key_hierarchy.sql`),
 * through an injected `pg.Pool` like `PgKeyRecords`, for the same reason: the ceremony CLI rotates DEKs
 * with no gateway running, and `hsm/` imports no code of ours.
 *
 * - `rotate` runs in one transaction under a transaction-scoped advisory lock of the domain: read the
 *   highest version, retire the active one, insert version + 1 as active, append a `dek-rotate` event to
 *   the ceremony trail (`key_events`). A unique partial index keeps at most one active DEK per domain.
 */
import type { Pool } from 'pg';
import { HsmError } from '../errors.ts';
import { DOMAIN_PATTERN, type DekRecord, type DekRepository, type DekState, type NewDek } from './dek-repository.ts';

interface Row {
  domain: string;
  version: number;
  state: DekState;
  token_label: string;
  kek_id: string;
  wrap_mechanism: string;
  wrapped: Buffer;
  created_at: Date;
  retired_at: Date | null;
}

const toRecord = (r: Row): DekRecord => ({
  domain: r.domain,
  version: r.version,
  state: r.state,
  tokenLabel: r.token_label,
  kekId: r.kek_id,
  wrapMechanism: r.wrap_mechanism,
  wrapped: r.wrapped,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
});

function checkDomain(domain: string): void {
  if (!DOMAIN_PATTERN.test(domain))
    throw new HsmError('HSM_CONFIG_INVALID', 'a DEK domain is 1 to 32 characters of [a-z0-9_]', {
      detail: `domain=${JSON.stringify(domain)}`,
    });
}

export class PgDekRepository implements DekRepository {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async list(domain: string): Promise<DekRecord[]> {
    checkDomain(domain);
    try {
      const { rows } = await this.#pool.query<Row>(
        'select * from dek_records where domain = $1 order by version desc',
        [domain],
      );
      return rows.map(toRecord);
    } catch (error) {
      throw failed(error);
    }
  }

  async rotate(domain: string, dek: NewDek, actor: string): Promise<DekRecord> {
    checkDomain(domain);
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query("select pg_advisory_xact_lock(hashtext('gw-dek:' || $1))", [domain]);
      const {
        rows: [top],
      } = await client.query<{ version: number | null }>(
        'select max(version) as version from dek_records where domain = $1',
        [domain],
      );
      const version = (top?.version ?? 0) + 1;
      await client.query(
        "update dek_records set state = 'retired', retired_at = now() where domain = $1 and state = 'active'",
        [domain],
      );
      const {
        rows: [row],
      } = await client.query<Row>(
        `insert into dek_records (domain, version, state, token_label, kek_id, wrap_mechanism, wrapped)
         values ($1, $2, 'active', $3, $4, $5, $6) returning *`,
        [domain, version, dek.tokenLabel, dek.kekId, dek.wrapMechanism, dek.wrapped],
      );
      await client.query(
        'insert into key_events (action, kid, actor, version, detail) select $1, null, $2, version, $3 from key_set_version',
        ['dek-rotate', actor, JSON.stringify({ domain, version, kekId: dek.kekId, tokenLabel: dek.tokenLabel })],
      );
      await client.query('commit');
      return toRecord(row!);
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw failed(error);
    } finally {
      client.release();
    }
  }
}

function failed(error: unknown): HsmError {
  if (error instanceof HsmError) return error;
  return new HsmError('HSM_RECORDS_FAILED', 'the DEK store failed', {
    detail: (error as Error)?.message,
    cause: error,
  });
}
