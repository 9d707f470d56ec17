import test from 'ava';
import pg from 'pg';
import { freshDatabase, freshToken } from '../helpers/services.ts';

test('the harness gives each test file its own PostgreSQL database and SoftHSM2 token', async (t) => {
  const url = await freshDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('select current_database() as db');
  await client.end();
  t.regex(rows[0].db, /^t_/);
  const token = freshToken();
  t.regex(token.label, /^gw-/);
});
