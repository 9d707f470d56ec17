/**
 * A container restarted gives the gateway the same pid again (pid 1): its spool files, named with that pid, were
 * taken for the new process's own and never replayed — records acknowledged from the spool while PostgreSQL was
 * down, lost for good. A file named with this process's pid but made before it started is an earlier process's:
 * adopted and replayed like a dead process's (gateway/audit/spool.ts).
 */
import { mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { migratedPool, unreachablePool } from '../store/fixtures.ts';

test("a spool file of an earlier process with this process's pid is replayed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-same-pid-'));
  // PostgreSQL unreachable: the record is acknowledged from the spool
  const down = await unreachablePool();
  t.teardown(() => down.end().catch(() => undefined));
  const before = new AuditLog(down, { spool: new AuditSpool(dir) });
  await before.append({ sessionId: 'same-pid-1', from: null, to: 'INITIATED', component: 'test' });
  await before.close();
  const [file] = readdirSync(dir);
  t.regex(file ?? '', new RegExp(`^spool-\\d{13}-${process.pid}-`));
  // as the earlier process of a container left it: this pid, made a minute before this process started
  const earlier = String(Math.floor(Date.now() - process.uptime() * 1000) - 60_000).padStart(13, '0');
  renameSync(join(dir, file!), join(dir, file!.replace(/^spool-\d{13}-/, `spool-${earlier}-`)));

  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const after = new AuditLog(pool, { spool: new AuditSpool(dir) });
  t.teardown(() => after.close());
  t.true(after.hasSpooled(), 'the earlier process’s file waits to be replayed');
  t.is(await after.replaySpool(), 1);
  const stored = await pool.query<{ n: string }>("select count(*) as n from audit_log where session_id = 'same-pid-1'");
  t.is(Number(stored.rows[0]!.n), 1);
});
