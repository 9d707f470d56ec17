/**
 * Planning vs execution of the hot statements of a login, measured by PostgreSQL itself (EXPLAIN ANALYZE's
 * "Planning Time" / "Execution Time", server side: robust to a loaded machine, unlike CPU from /proc). Each
 * statement runs 200 times unnamed (planned at each call, as node-postgres sends a statement without a name)
 * and 200 times as a named statement (prepared once; PostgreSQL keeps a generic plan after five calls): the
 * median server time per call of each, and, for the unnamed form, the planning share. Measurement only.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/pg-statement-cost.bench.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { COLUMNS, DurableTier, rowValues, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';

const N = Number(process.env.CALLS ?? 200);
const pool = createPool(await freshDatabase(), { max: 1 });
const durable = new DurableTier(pool);
await durable.maintain(16, 7);
const partitions = (
  await pool.query<{ n: string }>("select count(*) as n from pg_inherits where inhparent = 'session_records'::regclass")
).rows[0]!.n;
const record = (): StoredRecord => ({
  recordKey: randomBytes(32),
  kind: 'Session',
  lookupKey: randomBytes(32),
  sidKeys: [randomBytes(32)],
  grantKey: null,
  accountKey: randomBytes(32),
  idp: 'demo-idp',
  version: 1,
  state: 'active',
  dekVersion: 1,
  sealed: `s1.1.${randomBytes(200).toString('base64url')}`,
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 8 * 3600_000),
});
const keys: Buffer[] = [];
for (let i = 0; i < 500; i++) keys.push((await durable.put(record())).recordKey);
await pool.query('analyze');

const statements: Array<{ name: string; text: string; values: () => unknown[] }> = [
  {
    name: 'session_current (read of a record)',
    text: `select ${COLUMNS} from session_records where record_key = $1 and valid_to is null and expires_at > now() order by valid_from desc limit 1`,
    values: () => [keys[Math.floor(Math.random() * keys.length)]],
  },
  {
    name: 'session_record_put (a new record)',
    text: `select ${COLUMNS} from session_record_put($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    values: () => rowValues(record()),
  },
  {
    name: 'session_record_put (next row of one)',
    text: `select ${COLUMNS} from session_record_put($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    values: () => rowValues({ ...record(), recordKey: keys[Math.floor(Math.random() * keys.length)]! }),
  },
  {
    name: 'rba_counts read of a scope',
    text: 'select field, count::text as count from rba_counts where scope = $1',
    values: () => [randomUUID()],
  },
  {
    name: 'review_queue read',
    text: 'select login_id, client_id, idp, account_id, score, reasons, status, created_at, deadline, decided_by, note, level, approvals from review_queue where login_id = $1',
    values: () => [randomUUID()],
  },
];

/** A parameter as an SQL literal (EXECUTE takes them inline). */
const literal = (v: unknown): string => {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'::bytea`;
  if (Array.isArray(v)) return `array[${v.map(literal).join(', ')}]::bytea[]`;
  if (v instanceof Date) return `'${v.toISOString()}'`;
  return `'${String(v)}'`;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const client = await pool.connect();
console.log(
  `session_records partitions: ${partitions}; ${N} calls per form; server times (EXPLAIN ANALYZE), median per call`,
);
console.log('statement'.padEnd(40), 'unnamed: plan + exec ms'.padEnd(26), 'named: plan + exec ms');
for (const s of statements) {
  const unnamed = { plan: [] as number[], exec: [] as number[] };
  const named = { plan: [] as number[], exec: [] as number[] };
  const read = (rows: Array<Record<string, string>>, into: typeof unnamed) => {
    const lines = rows.map((r) => r['QUERY PLAN']!);
    const plan = lines.find((l) => l.startsWith('Planning Time'));
    const exec = lines.find((l) => l.startsWith('Execution Time'));
    into.plan.push(plan ? Number(/([\d.]+) ms/.exec(plan)![1]) : 0);
    into.exec.push(Number(/([\d.]+) ms/.exec(exec!)![1]));
  };
  // unnamed: each EXPLAIN plans the statement afresh (custom plan with the values)
  for (let i = 0; i < N; i++)
    read((await client.query(`explain (analyze, timing off, summary on) ${s.text}`, s.values())).rows, unnamed);
  // named: PREPARE once, EXPLAIN ANALYZE EXECUTE (planning time there is the plan cache's, ~0 once generic)
  const id = `p_${Math.random().toString(36).slice(2, 8)}`;
  await client.query(`prepare ${id} as ${s.text}`);
  for (let i = 0; i < N; i++) {
    const values = s.values().map(literal);
    read(
      (await client.query(`explain (analyze, timing off, summary on) execute ${id}(${values.join(', ')})`)).rows,
      named,
    );
  }
  await client.query(`deallocate ${id}`);
  console.log(
    s.name.padEnd(40),
    `${median(unnamed.plan).toFixed(3)} + ${median(unnamed.exec).toFixed(3)}`.padEnd(26),
    `${median(named.plan).toFixed(3)} + ${median(named.exec).toFixed(3)}`,
  );
}
client.release();
await pool.end();
