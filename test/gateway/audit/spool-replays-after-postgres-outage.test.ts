/**
 * No audit record is lost when PostgreSQL goes away. A real PostgreSQL of this test's own is stopped and
 * started again: records written meanwhile are acknowledged from the fsync'd local spool, replayed in
 * order when it returns, and the chain verifies; records acknowledged by a process that then crashed
 * (SIGKILL) are adopted and replayed by the next process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { verifyAuditChain } from '../../../gateway/audit/verify.ts';
import { genesisOnly } from '../../helpers/audit-anchor.ts';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { type PostgresHandle, startPostgres, startPostgresOnFreePort } from '../../harness/services/postgres.ts';

const WRITER = fileURLToPath(new URL('./fixtures/spool-writer.ts', import.meta.url));

let pg: PostgresHandle;
let pgDir: string;
test.before(async () => {
  pgDir = mkdtempSync(join(tmpdir(), 'gw-audit-pg-'));
  pg = await startPostgresOnFreePort(pgDir);
});
test.after.always(async () => {
  await pg?.stop().catch(() => undefined);
});

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test.serial(
  'records written during an outage are spooled, acknowledged, and replayed in order when PostgreSQL returns',
  async (t) => {
    const pool = createPool(pg.url, { connectionTimeoutMs: 1_000 });
    t.teardown(() => pool.end());
    await migrate(pool);
    const spoolDir = mkdtempSync(join(tmpdir(), 'gw-spool-'));
    const audit = new AuditLog(pool, { spool: new AuditSpool(spoolDir) });
    t.teardown(() => audit.close());
    await audit.append({ sessionId: 'outage', from: null, to: 'BEFORE_0', component: 'test' });
    await audit.append({ sessionId: 'outage', from: null, to: 'BEFORE_1', component: 'test' });

    await pg.stop();
    for (let i = 0; i < 5; i += 1)
      await audit.append({ sessionId: 'outage', from: null, to: `DURING_${i}`, component: 'test', details: { i } });
    t.is(audit.counters.spooled, 5);
    t.true(audit.hasSpooled());
    t.is(await audit.replaySpool(), 0, 'nothing replays while PostgreSQL is down');

    pg = await startPostgres(pgDir, pg.port);
    await audit.append({ sessionId: 'outage', from: null, to: 'AFTER_0', component: 'test' }); // queued behind the spool
    await until(async () => (await audit.replaySpool(), !audit.hasSpooled()), 'the spool to drain');

    const { rows } = await pool.query(
      "select to_state from audit_log where session_id = 'outage' order by audit_log.seq",
    );
    t.deepEqual(
      rows.map((r) => r.to_state),
      ['BEFORE_0', 'BEFORE_1', 'DURING_0', 'DURING_1', 'DURING_2', 'DURING_3', 'DURING_4', 'AFTER_0'],
    );
    t.true((await verifyAuditChain(pool, genesisOnly())).ok);
    t.deepEqual(
      readdirSync(spoolDir).filter((f) => !f.startsWith('spool-')),
      [],
      'no draining or rejected file left',
    );
  },
);

test.serial('records acknowledged by a process that crashed are replayed by the next one', async (t) => {
  const pool = createPool(pg.url, { connectionTimeoutMs: 1_000 });
  t.teardown(() => pool.end());
  await migrate(pool);
  const spoolDir = mkdtempSync(join(tmpdir(), 'gw-spool-'));
  await pg.stop();
  const child = spawn(process.execPath, [WRITER, pg.url, spoolDir, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('acked 3'), 'the child to acknowledge 4 records');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;

  pg = await startPostgres(pgDir, pg.port);
  const audit = new AuditLog(pool, { spool: new AuditSpool(spoolDir) });
  t.teardown(() => audit.close());
  t.true(audit.hasSpooled(), 'the dead process left records behind');
  t.is(await audit.replaySpool(), 4);
  const { rows } = await pool.query("select to_state from audit_log where session_id = 'crash' order by audit_log.seq");
  t.deepEqual(
    rows.map((r) => r.to_state),
    ['CHILD_0', 'CHILD_1', 'CHILD_2', 'CHILD_3'],
  );
  t.true((await verifyAuditChain(pool, genesisOnly())).ok);
});

test.serial(
  'a record replayed twice (crash after insert, before the spool was cleared) is inserted once',
  async (t) => {
    const pool = createPool(pg.url);
    t.teardown(() => pool.end());
    await migrate(pool);
    const spoolDir = mkdtempSync(join(tmpdir(), 'gw-spool-'));
    const spool = new AuditSpool(spoolDir);
    const record = {
      recordId: '00000000-0000-4000-8000-000000000001',
      at: new Date().toISOString(),
      sessionId: 'twice',
      from: null,
      to: 'X',
      component: 'test',
      errorCode: null,
      requestId: null,
      details: '{}',
      digest: '',
    };
    const { recordDigest } = await import('../../../gateway/audit/canonical.ts');
    record.digest = recordDigest({ ...record, at: new Date(record.at), details: {} }).toString('base64');
    spool.write(record);
    spool.write(record);
    const audit = new AuditLog(pool, { spool });
    t.teardown(() => audit.close());
    t.is(await audit.replaySpool(), 2);
    const { rows } = await pool.query("select count(*)::int as n from audit_log where session_id = 'twice'");
    t.is(rows[0].n, 1);
    t.true((await verifyAuditChain(pool, genesisOnly())).ok);
  },
);
