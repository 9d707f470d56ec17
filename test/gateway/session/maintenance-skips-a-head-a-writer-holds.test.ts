/**
 * Partition maintenance (`session_records_maintain`) drops the expired partitions, then deletes the heads whose
 * rows went with them. A head a writer holds (it locks the head first, then reads the head's partition) is left
 * for the next run: waiting for it while holding the dropped partitions deadlocked with that writer, and
 * PostgreSQL ended the deadlock by aborting one of them (fifteenth-round review; migration 0770). Real PostgreSQL,
 * two connections.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { DurableTier } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';

test('a head a writer holds is skipped, not waited for, and deleted by the next run', async (t) => {
  const pool = createPool(await freshDatabase());
  t.teardown(() => pool.end());
  const durable = new DurableTier(pool);
  // the head of a record long expired, whose rows are gone with their partition
  const held = randomBytes(32);
  const free = randomBytes(32);
  const longAgo = new Date(Date.now() - 30 * 86_400_000);
  for (const key of [held, free])
    await pool.query('insert into session_record_heads (record_key, expires_at) values ($1, $2)', [key, longAgo]);

  const writer = await pool.connect();
  t.teardown(() => writer.release());
  await writer.query('begin');
  await writer.query('select 1 from session_record_heads where record_key = $1 for update', [held]);

  const maintenance = await pool.connect();
  t.teardown(() => maintenance.release());
  // a wait for the writer's lock would end in this error (the old function waited until the writer ended)
  await maintenance.query("set lock_timeout = '5s'");
  await maintenance.query('select session_records_maintain(now(), make_interval(days => 2), make_interval(days => 7))');
  const left = async () =>
    (
      await pool.query<{ n: number }>(
        'select count(*)::int as n from session_record_heads where record_key = any($1)',
        [[held, free]],
      )
    ).rows[0]!.n;
  t.is(await left(), 1, 'the free head is deleted, the held one skipped');

  await writer.query('commit');
  await durable.maintain(2, 7);
  t.is(await left(), 0, 'the next run deletes it');
});
