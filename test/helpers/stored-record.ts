/**
 * A session-store record for tests of the durable and hot tiers: an active record of `kind` under a fresh
 * key, with an account, IdP `demo-idp`, version 1, a sealed payload of random bytes (the tiers never open
 * it), created now, expiring in 10 minutes; a Session has a cookie lookup key. `fields` replaces any of it.
 *
 * @example
 * const grant = storedRecord('Grant'); const revoked = storedRecord('Session', { state: 'revoked', version: 2 });
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { COLUMNS, rowValues, toRecord, type Row, type StoredRecord } from '../../gateway/session/stored-record.ts';

export function storedRecord(kind: StoredRecord['kind'], fields: Partial<StoredRecord> = {}): StoredRecord {
  return {
    recordKey: randomBytes(32),
    kind,
    lookupKey: kind === 'Session' ? randomBytes(32) : null,
    sidKeys: [],
    grantKey: null,
    accountKey: randomBytes(32),
    idp: 'demo-idp',
    version: 1,
    state: 'active',
    dekVersion: 1,
    sealed: `s1.1.${randomBytes(40).toString('base64url')}`,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 600_000),
    ...fields,
  };
}

/**
 * Writes `record` as a gateway from before migration 0760 did: through `session_record_put` (which opens an ended
 * session again). For a database at an older schema, or the old gateway of a rolling upgrade.
 */
export async function putAsBefore0760(pool: Pick<Pool, 'query'>, record: StoredRecord): Promise<StoredRecord> {
  const { rows } = await pool.query<Row>(
    `select ${COLUMNS} from session_record_put($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    rowValues(record),
  );
  return toRecord(rows[0]!);
}

/**
 * Writes `record` as a gateway from migration 0760 to before 0780 did: through `session_record_write` with fourteen
 * arguments (`reopen`: the `valid_from` of the ended row its own end made, or null). The old gateway of a rolling
 * upgrade.
 */
export async function writeAsBefore0780(
  pool: Pick<Pool, 'query'>,
  record: StoredRecord,
  reopen: string | null = null,
): Promise<StoredRecord> {
  const { rows } = await pool.query<Row>(
    `select ${COLUMNS} from session_record_write($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [...rowValues(record), reopen],
  );
  return toRecord(rows[0]!);
}
