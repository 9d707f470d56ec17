/**
 * The check of a session a request saved unchanged (`session_record_state`, migration 0810) takes no row lock, so
 * no transaction id, WAL record or commit flush, unless a transaction still running has touched the row (a
 * revocation still committing): a lock left on the row by a transaction that ended (an earlier check that did wait,
 * an update rolled back) does not make every later check lock it again.
 */
import test from 'ava';
import type { Pool } from 'pg';
import { aSession } from './session-saves.ts';

/** Runs the check in a transaction of its own: the state it answers, and whether it was given a transaction id. */
async function check(pool: Pool, key: Buffer) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ state: string | null }>('select session_record_state($1) as state', [key]);
    const { rows: xid } = await client.query<{ id: string | null }>(
      'select pg_current_xact_id_if_assigned()::text as id',
    );
    await client.query('commit');
    return { state: rows[0]!.state, xid: xid[0]!.id };
  } finally {
    client.release();
  }
}

test.serial('a check of an untouched session locks nothing', async (t) => {
  const { fx, key } = await aSession(t);
  t.deepEqual(await check(fx.gateway.services.pool, key), { state: 'active', xid: null });
});

test.serial('a row lock left by a transaction that ended does not make the next check lock the row', async (t) => {
  const { fx, key } = await aSession(t);
  const { pool } = fx.gateway.services;
  // a transaction locks the current row, then ends (as a check that waited leaves it)
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select 1 from session_records where record_key = $1 and valid_to is null for share', [key]);
    await client.query('commit');
  } finally {
    client.release();
  }
  const { rows } = await pool.query<{ locked: boolean }>(
    "select xmax <> '0'::xid as locked from session_records where record_key = $1 and valid_to is null",
    [key],
  );
  t.true(rows[0]!.locked, 'the row carries the ended transaction in its xmax');
  t.deepEqual(await check(pool, key), { state: 'active', xid: null });
});
