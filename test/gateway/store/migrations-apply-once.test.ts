import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadMigrations, migrate } from '../../../gateway/store/migrate.ts';
import { createPool, pingPostgres } from '../../../gateway/store/postgres.ts';
import { emptyDatabase } from '../../helpers/services.ts';
import { unreachablePool } from './fixtures.ts';

const versions = loadMigrations().map((migration) => migration.version);

test('the first migration is the audit log', (t) => {
  t.is(versions[0], '0001_audit_log');
});

test('migrate applies every migration once, and a second run applies nothing', async (t) => {
  const pool = createPool(await emptyDatabase());
  t.teardown(() => pool.end());
  t.deepEqual(await migrate(pool), versions);
  t.deepEqual(await migrate(pool), []);
  const { rows } = await pool.query('select version from schema_migrations order by version');
  t.deepEqual(
    rows.map((row) => row.version),
    versions,
  );
});

test('two processes migrating at once apply each migration exactly once', async (t) => {
  const url = await emptyDatabase();
  const pools = [createPool(url), createPool(url)];
  t.teardown(() => Promise.all(pools.map((pool) => pool.end())));
  const [a, b] = await Promise.all(pools.map((pool) => migrate(pool)));
  t.deepEqual([...a!, ...b!].sort(), versions);
  const { rows } = await pools[0]!.query('select count(*)::int as n from schema_migrations');
  t.is(rows[0].n, versions.length);
});

test('a malformed migration file name stops the run with MIGRATION_BAD_NAME', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  writeFileSync(join(dir, 'audit.sql'), 'select 1');
  const pool = createPool(await emptyDatabase());
  t.teardown(() => pool.end());
  await t.throwsAsync(migrate(pool, undefined, { dir }), { code: 'MIGRATION_BAD_NAME' } as never);
});

test('a failing migration is rolled back and not recorded; those before it stay applied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  writeFileSync(join(dir, '0001_good.sql'), 'create table good (id int);');
  writeFileSync(join(dir, '0002_bad.sql'), 'create table half (id int); select no_such_function();');
  const pool = createPool(await emptyDatabase());
  t.teardown(() => pool.end());
  const error = await t.throwsAsync(migrate(pool, undefined, { dir }), { code: 'MIGRATION_FAILED' } as never);
  t.is((error as unknown as { version: string }).version, '0002_bad');
  const { rows } = await pool.query('select version from schema_migrations');
  t.deepEqual(
    rows.map((row) => row.version),
    ['0001_good'],
  );
  const tables = await pool.query(
    "select to_regclass('good') is not null as good, to_regclass('half') is not null as half",
  );
  t.deepEqual(tables.rows[0], { good: true, half: false });
});

test('pingPostgres resolves on a live database and rejects on an unreachable one', async (t) => {
  const live = createPool(await emptyDatabase());
  const dead = await unreachablePool();
  t.teardown(() => Promise.all([live.end(), dead.end()]));
  await t.notThrowsAsync(pingPostgres(live));
  await t.throwsAsync(pingPostgres(dead));
});

test('connections carry application_name gateway', async (t) => {
  const pool = createPool(await emptyDatabase());
  t.teardown(() => pool.end());
  const { rows } = await pool.query(
    "select current_setting('application_name') as name, current_setting('statement_timeout') as timeout",
  );
  t.deepEqual(rows[0], { name: 'gateway', timeout: '5s' });
});

test('a transaction left idle is ended by the server (60 s by default), its locks released', async (t) => {
  const defaults = createPool(await emptyDatabase());
  t.teardown(() => defaults.end());
  const { rows } = await defaults.query("select current_setting('idle_in_transaction_session_timeout') as idle");
  t.is(rows[0].idle, '1min');
  // a process paused between its statements and its COMMIT (here 300 ms): the server ends the session
  const pool = createPool(await emptyDatabase(), { idleInTransactionTimeoutMs: 300 });
  t.teardown(() => pool.end());
  const client = await pool.connect();
  client.on('error', () => undefined);
  try {
    await client.query('begin');
    await client.query('select 1');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const error = await t.throwsAsync(client.query('commit'));
    t.truthy(error, 'the transaction is gone');
  } finally {
    client.release(true);
  }
});
