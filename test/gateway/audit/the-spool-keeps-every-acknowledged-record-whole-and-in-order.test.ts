/**
 * The audit spool under the conditions it exists for (audit review, thirty-seventh round): a disk that takes part of
 * a line acknowledges nothing it did not write whole; an outage of many replay rounds leaves a bounded number of
 * files, not one per round; what an outage interrupted is still replayed before this process's later records; a line
 * of another shape, or a file another user put in the folder, is set aside without stopping the replay; the folder is
 * this user's alone (one open to others is refused, not changed).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool, type SpooledRecord } from '../../../gateway/audit/spool.ts';
import { migratedPool } from '../store/fixtures.ts';

const FILLER = fileURLToPath(new URL('./fixtures/spool-filler.ts', import.meta.url));

/** A pid no process has: the files named with it are a dead process's, adopted at replay. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const record = (to: string): SpooledRecord => ({
  recordId: randomUUID(),
  at: new Date().toISOString(),
  sessionId: 'spool-order',
  from: null,
  to,
  component: 'test',
  errorCode: null,
  requestId: null,
  details: '{}',
  digest: randomBytes(32).toString('base64'),
});

/** An insert that fails like an unreachable PostgreSQL while `down`, and keeps what it is given otherwise. */
function database() {
  const inserted: string[] = [];
  const state = { down: true };
  const insert = async (r: SpooledRecord) => {
    if (state.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    inserted.push(r.to);
  };
  const isDataError = (error: unknown) => /^2[23]/.test(String((error as { code?: unknown }).code));
  return { inserted, state, insert, isDataError };
}

test('a record the disk took only part of is never acknowledged: every acknowledged record is replayed whole', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-full-'));
  // a file size limit of 2 KiB: the fourth record of ~600 bytes is written in part, then refused
  const run = spawnSync('bash', ['-c', `ulimit -f 2 && exec "${process.execPath}" "${FILLER}" "${dir}"`], {
    encoding: 'utf8',
  });
  t.is(run.status, 0, run.stderr);
  const acknowledged = JSON.parse(run.stdout) as string[];
  t.true(acknowledged.length >= 2 && acknowledged.length < 1_000, `${acknowledged.length} acknowledged`);
  return (async () => {
    const spool = new AuditSpool(dir);
    t.teardown(() => spool.close());
    const ids: string[] = [];
    const replayed = await spool.replay(
      async (r) => void ids.push(r.recordId),
      () => false,
    );
    t.is(replayed, acknowledged.length);
    t.deepEqual(ids, acknowledged, 'each acknowledged record, in order');
    t.is(spool.rejectedLines, 0, 'no torn line: the part written of the refused record was cut off');
  })();
});

test('an outage of many replay rounds leaves the live file and one draining file, and loses nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-rounds-'));
  const spool = new AuditSpool(dir);
  t.teardown(() => spool.close());
  const db = database();
  for (let i = 0; i < 40; i += 1) {
    spool.write(record(`DURING_${i}`));
    t.is(await spool.replay(db.insert, db.isDataError), 0);
  }
  const files = readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
  t.true(files.length <= 2, `${files.length} files: ${files.join(', ')}`);
  db.state.down = false;
  await spool.replay(db.insert, db.isDataError);
  t.deepEqual(
    db.inserted,
    Array.from({ length: 40 }, (_, i) => `DURING_${i}`),
  );
  t.false(spool.hasPending());
});

test("a dead process's file an outage interrupted is still replayed before this process's later records", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-order-'));
  const old = `spool-${String(Date.now() - 5_000).padStart(13, '0')}-${deadPid()}-00aa.jsonl`;
  writeFileSync(join(dir, old), `${JSON.stringify(record('OLD_1'))}\n${JSON.stringify(record('OLD_2'))}\n`, {
    mode: 0o600,
  });
  const spool = new AuditSpool(dir);
  t.teardown(() => spool.close());
  spool.write(record('NEW_1'));
  const db = database();
  await spool.replay(db.insert, db.isDataError); // the outage: nothing goes, the rest is kept
  spool.write(record('NEW_2'));
  await spool.replay(db.insert, db.isDataError);
  db.state.down = false;
  await spool.replay(db.insert, db.isDataError);
  t.deepEqual(db.inserted, ['OLD_1', 'OLD_2', 'NEW_1', 'NEW_2']);
});

test('a spool line of another shape is set aside and the records after it reach PostgreSQL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spool-shape-'));
  const good = { ...record('AFTER_THE_ODD_LINES'), sessionId: `shape-${randomUUID()}` };
  const lines = [
    '{}',
    '[1,2]',
    JSON.stringify({ ...record('NO_DIGEST'), digest: undefined }),
    '{"torn":',
    JSON.stringify(good),
  ];
  writeFileSync(
    join(dir, `spool-${String(Date.now() - 5_000).padStart(13, '0')}-${deadPid()}-00bb.jsonl`),
    `${lines.join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const spool = new AuditSpool(dir);
  const audit = new AuditLog(pool, { spool });
  t.teardown(() => audit.close());
  t.true(audit.hasSpooled());
  t.is(await audit.replaySpool(), 1);
  t.false(audit.hasSpooled(), 'nothing is left waiting: the odd lines never stop the replay');
  t.is(spool.rejectedLines, 4);
  const stored = await pool.query<{ to_state: string }>('select to_state from audit_log where session_id = $1', [
    good.sessionId,
  ]);
  t.deepEqual(
    stored.rows.map((r) => r.to_state),
    ['AFTER_THE_ODD_LINES'],
  );
  t.true(
    readdirSync(dir).some((name) => name.startsWith('rejected-')),
    'the odd lines are kept aside',
  );
});

(process.getuid?.() === 0 ? test : test.skip)(
  'a spool file another user put in the folder is set aside, never chained',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-spool-foreign-'));
    const name = `spool-${String(Date.now() - 5_000).padStart(13, '0')}-${deadPid()}-00cc.jsonl`;
    writeFileSync(join(dir, name), `${JSON.stringify(record('FORGED'))}\n`, { mode: 0o600 });
    chownSync(join(dir, name), 65_534, 65_534);
    const spool = new AuditSpool(dir);
    t.teardown(() => spool.close());
    const db = database();
    db.state.down = false;
    await spool.replay(db.insert, db.isDataError);
    t.deepEqual(db.inserted, []);
    t.true(readdirSync(dir).includes(`foreign-${name}`));
    t.false(spool.hasPending());
  },
);

test("the spool folder is this user's alone: one open to others, or a link, is refused", (t) => {
  const loose = join(mkdtempSync(join(tmpdir(), 'gw-spool-mode-')), 'spool');
  mkdirSync(loose, { mode: 0o755 });
  chmodSync(loose, 0o755);
  t.throws(() => new AuditSpool(loose), { message: /open to other users \(mode 755\): chmod 700 it/ });
  chmodSync(loose, 0o700);
  new AuditSpool(loose).close();
  const link = join(mkdtempSync(join(tmpdir(), 'gw-spool-link-')), 'spool');
  symlinkSync(loose, link);
  t.throws(() => new AuditSpool(link), { message: /not a folder/ });
  // a folder it makes is its own
  const made = join(mkdtempSync(join(tmpdir(), 'gw-spool-new-')), 'a', 'b');
  new AuditSpool(made).close();
  t.is(statSync(made).mode & 0o777, 0o700);
});
