/**
 * A process that dies after this one started (a sibling worker killed during a PostgreSQL outage, whose replacement
 * then could not boot) leaves spooled records that only a look at the folder finds: they are looked for every minute
 * (`AuditLog.startReplayer`, `AuditSpool.lookForOrphans`) and replayed by a live process. Before, the files of dead
 * processes were counted when a process started only, and a live sibling never replayed them: records acknowledged
 * to their callers stayed out of PostgreSQL until a restart.
 */
import { mkdtempSync, readdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { migratedPool, unreachablePool } from '../store/fixtures.ts';

/** A pid no process has here. */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid -= 1) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

test('records a sibling spooled before it died are replayed by a live process, without a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-sibling-'));
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  // the live process: nothing pending when it starts; it looks for dead processes' files every 200 ms here
  const live = new AuditLog(pool, { spool: new AuditSpool(dir) });
  t.teardown(() => live.close());
  live.startReplayer(50, 200);
  t.false(live.hasSpooled());

  // the sibling: PostgreSQL unreachable for it, its record acknowledged from the spool; then it dies
  const down = await unreachablePool();
  t.teardown(() => down.end().catch(() => undefined));
  const sibling = new AuditLog(down, { spool: new AuditSpool(dir) });
  await sibling.append({ sessionId: 'sibling-died-1', from: null, to: 'INITIATED', component: 'test' });
  await sibling.close();
  // its file holds the line (the live process's own is empty); named with a pid no process has now: a dead one's
  const written = readdirSync(dir).filter((name) => name.startsWith('spool-') && statSync(join(dir, name)).size > 0);
  t.is(written.length, 1, `the sibling's file: ${readdirSync(dir).join(', ')}`);
  renameSync(join(dir, written[0]!), join(dir, written[0]!.replace(`-${process.pid}-`, `-${deadPid()}-`)));

  let stored = 0;
  for (let i = 0; i < 100 && stored === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { rows } = await pool.query<{ n: string }>(
      "select count(*) as n from audit_log where session_id = 'sibling-died-1'",
    );
    stored = Number(rows[0]!.n);
  }
  t.is(stored, 1, 'replayed by the live process');
});
