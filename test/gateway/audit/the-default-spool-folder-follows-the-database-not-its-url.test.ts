/**
 * The default audit spool folder (`audit.spoolDir` unset; gateway/audit/spool-location.ts) is named for the database
 * its records belong to, its user and name, not for the whole URL: a rotated password or the host given as a Unix
 * socket's folder keeps the folder, so records spooled before the change are replayed after it. The folder the URL's
 * own hash named (before round 33) is adopted at boot, and other folders where records still wait are listed.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  adoptLegacySpool,
  defaultSpoolDir,
  legacySpoolDir,
  otherPendingSpools,
} from '../../../gateway/audit/spool-location.ts';

const URL_BEFORE = 'postgres://gw:old-secret@db.internal:5432/gateway';

test('a new password, another host or the Unix socket keep the folder; another database or user does not', (t) => {
  const cwd = '/srv/gw';
  const folder = defaultSpoolDir(URL_BEFORE, cwd);
  t.regex(folder, /^\/srv\/gw\/var\/audit-spool\/[0-9a-f]{16}$/);
  for (const same of [
    'postgres://gw:new-secret@db.internal:5432/gateway',
    'postgres://gw@127.0.0.1:5432/gateway?host=/var/run/postgresql',
    'postgresql://gw:old-secret@db2.internal:6432/gateway?sslmode=require',
  ])
    t.is(defaultSpoolDir(same, cwd), folder, same);
  for (const other of ['postgres://gw:old-secret@db.internal:5432/gateway_b', 'postgres://gw2:x@db.internal/gateway'])
    t.not(defaultSpoolDir(other, cwd), folder, other);
  t.not(legacySpoolDir(URL_BEFORE, cwd), folder, "the URL's own hash was another name");
});

test("the legacy folder's waiting records move to the default folder; other folders where records wait are listed", (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'gw-spool-location-'));
  const legacy = legacySpoolDir(URL_BEFORE, cwd);
  const today = defaultSpoolDir(URL_BEFORE, cwd);
  mkdirSync(legacy, { recursive: true });
  const waiting = ['spool-1765000000000-4242-0a0b0c0d.jsonl', 'draining-1765000000001-4242-0a0b0c0e.jsonl'];
  for (const name of [...waiting, 'rejected-1765000000002-4242.jsonl', 'notes.txt'])
    writeFileSync(join(legacy, name), '{}\n');

  t.is(adoptLegacySpool(legacy, today), 3);
  t.deepEqual(readdirSync(today).sort(), [...waiting, 'rejected-1765000000002-4242.jsonl'].sort());
  t.deepEqual(readdirSync(legacy), ['notes.txt'], 'only spool files move');
  t.is(adoptLegacySpool(legacy, today), 0, 'once');
  t.deepEqual(otherPendingSpools(today), [], 'nothing waits elsewhere');

  // a folder of a URL from before a password change, with a record still waiting
  const before = legacySpoolDir('postgres://gw:older-secret@db.internal:5432/gateway', cwd);
  mkdirSync(before, { recursive: true });
  writeFileSync(join(before, waiting[0]!), '{}\n');
  mkdirSync(join(cwd, 'var', 'audit-spool', 'empty'), { recursive: true });
  t.deepEqual(otherPendingSpools(today), [before]);
});
