import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import pg from 'pg';
import { loadMigrations } from '../../../gateway/store/migrate.ts';
import { emptyDatabase } from '../../helpers/services.ts';

const run = promisify(execFile);

test('node gateway/store/migrate.ts migrates the database named by GW_DATABASE_URL, and again is a no-op', async (t) => {
  const url = await emptyDatabase();
  const env = { ...process.env, GW_DATABASE_URL: url };
  const first = await run(process.execPath, ['gateway/store/migrate.ts'], { env });
  t.regex(first.stdout, /applied 0001_audit_log/);
  const second = await run(process.execPath, ['gateway/store/migrate.ts'], { env });
  t.regex(second.stdout, /schema up to date/);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('select version from schema_migrations order by version');
  await client.end();
  t.deepEqual(
    rows.map((row) => row.version),
    loadMigrations().map((migration) => migration.version),
  );
});

test('without GW_DATABASE_URL the CLI exits with status 2', async (t) => {
  const env = { ...process.env };
  delete env.GW_DATABASE_URL;
  const error = await t.throwsAsync(run(process.execPath, ['gateway/store/migrate.ts'], { env }));
  t.is((error as unknown as { code: number }).code, 2);
});
