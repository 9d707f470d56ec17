/**
 * The default audit spool folder is named for the database URL (gateway/audit/spool-location.ts): a changed URL (a
 * rotated password, the Unix socket form) is another folder, and records left waiting in the folder of before are
 * replayed by nobody. They are named at boot (`AUDIT_SPOOL_ELSEWHERE`) for an operator to move them: only files of
 * processes no longer running that hold records — a running gateway's empty live file beside it is none of this,
 * and neither is a folder that cannot be read.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { defaultSpoolDir, waitingElsewhere } from '../../../gateway/audit/spool-location.ts';

const URL_NOW = 'postgres://gw:new-secret@db.internal:5432/gateway';
const URL_BEFORE = 'postgres://gw:old-secret@db.internal:5432/gateway';
/** A process id no process has (Linux's pid_max is at most 2^22). */
const DEAD_PID = 4_194_305;

test('the folder follows the URL; folders holding records of stopped processes are named, nothing else', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'gw-spool-elsewhere-'));
  const now = defaultSpoolDir(URL_NOW, cwd);
  t.regex(now, /\/var\/audit-spool\/[0-9a-f]{16}$/);
  t.is(defaultSpoolDir(URL_NOW, cwd), now);
  const before = defaultSpoolDir(URL_BEFORE, cwd);
  t.not(before, now, 'a rotated password is another folder');
  mkdirSync(now, { recursive: true });
  t.deepEqual(waitingElsewhere(now), []);

  // a stopped process's file with a record: named
  mkdirSync(before, { recursive: true });
  writeFileSync(join(before, `spool-1765000000000-${DEAD_PID}-0a0b0c0d.jsonl`), '{"id":1}\n');
  t.deepEqual(waitingElsewhere(now), [before]);

  // a running process's live file (this one's), empty files of stopped ones, other files, a folder it cannot read
  const beside = join(cwd, 'var', 'audit-spool', 'running-beside');
  mkdirSync(beside);
  writeFileSync(join(beside, `spool-1765000000001-${process.pid}-0a0b0c0e.jsonl`), '{"id":2}\n');
  writeFileSync(join(beside, `spool-1765000000002-${DEAD_PID}-0a0b0c0f.jsonl`), '');
  writeFileSync(join(beside, `rejected-1765000000003-${DEAD_PID}.jsonl`), '{"id":3}\n');
  const closed = join(cwd, 'var', 'audit-spool', 'closed');
  mkdirSync(closed);
  writeFileSync(join(closed, `spool-1765000000004-${DEAD_PID}-0a0b0c10.jsonl`), '{"id":4}\n');
  chmodSync(closed, 0o000);
  t.teardown(() => chmodSync(closed, 0o700));
  const named = waitingElsewhere(now);
  t.true(named.includes(before));
  t.false(named.includes(beside), "a running process's file and empty files are none of this");
  // root reads any folder: the unreadable one is then named (it does hold a stopped process's record)
  if (process.getuid?.() !== 0) t.false(named.includes(closed), 'a folder it cannot read is skipped');
});
