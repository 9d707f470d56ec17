/**
 * A closed audit log refuses an append with `AUDIT_UNAVAILABLE` ("the gateway is stopping"), and its spool refuses a
 * write: before, a record appended after `close()` went on to the spool's descriptor, closed by then — `EBADF`, or
 * worse, a write into whatever file or socket had since been given that descriptor's number. The gateway's close
 * waits for its audit writers first (in-flight.ts, the load shedder, the sector checks), so this is the last guard.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { migratedPool } from '../store/fixtures.ts';

const RECORD = { sessionId: 'closing-1', from: null, to: 'INITIATED', component: 'test' } as const;

test('after close() an append is refused AUDIT_UNAVAILABLE and nothing reaches the spool', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const dir = mkdtempSync(join(tmpdir(), 'gw-audit-closed-'));
  const spool = new AuditSpool(dir);
  const audit = new AuditLog(pool, { spool });
  await audit.append(RECORD);
  await audit.close();

  const refused = await t.throwsAsync(audit.append({ ...RECORD, sessionId: 'closing-2' }));
  t.is((refused as { code?: string }).code, 'AUDIT_UNAVAILABLE');
  t.throws(() => spool.write({} as never), { message: /spool is closed/ });
  t.deepEqual(readdirSync(dir), [], 'the live file was empty and is gone; nothing was written after close');
  const stored = await pool.query<{ n: string }>(
    "select count(*) as n from audit_log where session_id in ('closing-1', 'closing-2')",
  );
  t.is(Number(stored.rows[0]!.n), 1);
});
