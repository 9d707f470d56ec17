/**
 * Issue #14: the session tier's end, consume, one-session revocation and grant listing, before (a record key
 * or grant key alone: every day partition probed) and after migration 0750 (each record's head gives its
 * partition). Each statement runs CALLS times as a named statement (PREPARE once, EXPLAIN (ANALYZE, BUFFERS)
 * EXECUTE, as the gateway's named statements run), each call in a transaction rolled back (the same rows
 * every time), on a record of a random day. Prints per statement the median of: partitions scanned (from
 * `pg_stat_xact_user_tables` within the call's transaction: a plpgsql function's inner statements included),
 * shared buffers hit, planning and execution time (server side: PostgreSQL's own figures). Measurement only.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/session-prune-explain.bench.ts
 */
import { COLUMNS } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';

const CALLS = Number(process.env.CALLS ?? 200);
const RECORDS = Number(process.env.RECORDS ?? 2000);
const pool = createPool(await freshDatabase(), { max: 1 });
await pool.query("select session_records_maintain(now(), interval '16 days', interval '7 days')");
// per person i: a session (8 h), a grant (1 to 14 days), its access token (1 h) and refresh token (1 to 14 days)
await pool.query(
  `do $$ declare i int; g bytea; begin
     for i in 1..${RECORDS} loop
       g := sha256(('g' || i)::bytea);
       perform session_record_put(sha256(('s' || i)::bytea), 'Session', sha256(('l' || i)::bytea), array[sha256(('sid' || i)::bytea)], null, sha256(('a' || i)::bytea), 'demo-idp', 1, 'active', 1, repeat('x', 300), now(), now() + interval '8 hours');
       perform session_record_put(g, 'Grant', null, null, null, sha256(('a' || i)::bytea), null, 1, 'active', 1, repeat('x', 300), now(), now() + (i % 14 + 1) * interval '1 day');
       perform session_record_put(sha256(('at' || i)::bytea), 'AccessToken', null, null, g, sha256(('a' || i)::bytea), null, 1, 'active', 1, repeat('x', 300), now(), now() + interval '1 hour');
       perform session_record_put(sha256(('rt' || i)::bytea), 'RefreshToken', null, null, g, sha256(('a' || i)::bytea), null, 1, 'active', 1, repeat('x', 300), now(), now() + (i % 14 + 1) * interval '1 day');
     end loop; end $$`,
);
await pool.query('analyze');
const partitions = (
  await pool.query<{ n: string }>("select count(*) as n from pg_inherits where inhparent = 'session_records'::regclass")
).rows[0]!.n;

const ENDED = COLUMNS.replace(' state,', " 'ended',");
const key = (prefix: string, i: number) => `sha256('${prefix}${i}'::bytea)`;
const statements: Array<{ name: string; types: string; text: string; arg: (i: number) => string }> = [
  {
    name: 'session_end, before',
    types: 'bytea[]',
    text: `with closed as (update session_records set valid_to = clock_timestamp() where record_key = any($1) and valid_to is null returning ${COLUMNS})
      insert into session_records (${COLUMNS}) select ${ENDED} from closed where kind = 'Session' and state = 'active'`,
    arg: (i) => `array[${key('at', i)}, ${key('rt', i)}, ${key('g', i)}]`,
  },
  {
    name: 'session_end, after',
    types: 'bytea[]',
    text: 'select session_records_close($1::bytea[])',
    arg: (i) => `array[${key('at', i)}, ${key('rt', i)}, ${key('g', i)}]`,
  },
  {
    name: 'session_consume, before',
    types: 'bytea',
    text: `with closed as (update session_records set valid_to = clock_timestamp() where record_key = $1 and valid_to is null and state = 'active' and expires_at > now() returning ${COLUMNS})
      insert into session_records (${COLUMNS}) select ${ENDED} from closed returning ${COLUMNS}`,
    arg: (i) => key('rt', i),
  },
  {
    name: 'session_consume, after',
    types: 'bytea',
    text: `with closed as (update session_records r set valid_to = clock_timestamp() where r.record_key = $1 and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = $1) and r.valid_to is null and r.state = 'active' and r.expires_at > now() returning ${COLUMNS})
      insert into session_records (${COLUMNS}) select ${ENDED} from closed returning ${COLUMNS}`,
    arg: (i) => key('rt', i),
  },
  {
    name: 'revoke one session (update), before',
    types: 'bytea',
    text: `update session_records set valid_to = clock_timestamp() where kind = 'Session' and record_key = $1 and valid_to is null and state <> 'revoked' and expires_at > now() returning ${COLUMNS}`,
    arg: (i) => key('s', i),
  },
  {
    name: 'revoke one session (update), after',
    types: 'bytea',
    text: `update session_records r set valid_to = clock_timestamp() where r.kind = 'Session' and r.record_key = $1 and r.expires_at = (select h.expires_at from session_record_heads h where h.record_key = $1) and r.valid_to is null and r.state <> 'revoked' and r.expires_at > now() returning ${COLUMNS}`,
    arg: (i) => key('s', i),
  },
  {
    name: 'keysOfGrant, before',
    types: 'bytea',
    text: 'select record_key from session_records where grant_key = $1 and valid_to is null',
    arg: (i) => key('g', i),
  },
  {
    name: 'keysOfGrant, after',
    types: 'bytea',
    text: `select h.record_key from session_record_heads h where h.grant_key = $1 and (select true from session_records r where r.record_key = h.record_key and r.expires_at = h.expires_at and r.valid_to is null limit 1)`,
    arg: (i) => key('g', i),
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const client = await pool.connect();
const scans = async () =>
  new Map(
    (
      await client.query<{ relname: string; n: string }>(
        "select relname, (idx_scan + seq_scan)::text as n from pg_stat_xact_user_tables where relname like 'session\\_records\\_%'",
      )
    ).rows.map((r) => [r.relname, Number(r.n)]),
  );
console.log(
  `session_records: ${partitions} partitions, ${RECORDS * 4} records; ${CALLS} calls per statement (named, EXPLAIN (ANALYZE, BUFFERS) EXECUTE, rolled back); medians`,
);
console.log('statement'.padEnd(38), 'partitions', 'buffers', 'planning ms', 'execution ms');
for (const s of statements) {
  const id = `p_${Math.random().toString(36).slice(2, 8)}`;
  await client.query(`prepare ${id}(${s.types}) as ${s.text}`);
  const got = { scanned: [] as number[], buffers: [] as number[], plan: [] as number[], exec: [] as number[] };
  for (let call = 0; call < CALLS; call++) {
    const i = 1 + Math.floor(Math.random() * RECORDS);
    await client.query('begin');
    const before = await scans();
    const [explained] = (
      await client.query<{ 'QUERY PLAN': Array<Record<string, unknown>> }>(
        `explain (analyze, buffers, format json) execute ${id}(${s.arg(i)})`,
      )
    ).rows[0]!['QUERY PLAN'];
    const after = await scans();
    await client.query('rollback');
    got.scanned.push([...after].filter(([relname, n]) => n > (before.get(relname) ?? 0)).length);
    const plan = explained!.Plan as Record<string, number>;
    got.buffers.push((plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0));
    got.plan.push(Number(explained!['Planning Time'] ?? 0));
    got.exec.push(Number(explained!['Execution Time']));
  }
  await client.query(`deallocate ${id}`);
  console.log(
    s.name.padEnd(38),
    String(median(got.scanned)).padStart(10),
    String(median(got.buffers)).padStart(7),
    median(got.plan).toFixed(3).padStart(11),
    median(got.exec).toFixed(3).padStart(12),
  );
}
client.release();
await pool.end();
