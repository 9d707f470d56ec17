/**
 * In-process A/B (issue #14): a login's risk record written as before — the assessment and its signals, then
 * the day's aggregates: two statements, two transactions — against one statement for all three
 * (`FraudService.record` now). Blocks of logins alternate A, B (and A, A as the control) on one connection to a
 * real PostgreSQL; per login: this process's CPU, the PostgreSQL backend's CPU (/proc), commits
 * (pg_stat_database), wall time. Medians of the blocks. Measurement only.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/risk-record-ab.ts
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createPool } from '../../../gateway/store/postgres.ts';
import { RECORD_ASSESSMENTS } from '../../../gateway/translation/fraud-service.ts';
import { freshDatabase } from '../../helpers/services.ts';

const BLOCKS = Number(process.env.BLOCKS ?? 16);
const PER_BLOCK = Number(process.env.PER_BLOCK ?? 100);
const pool = createPool(await freshDatabase(), { max: 1 });
const client = await pool.connect();
const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
const ticks = () => {
  const f = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
};
// this backend's own counters, flushed first (PostgreSQL 15+): the statistics are otherwise written late. Each
// call commits three transactions of its own (the flush, a no-op that carries it out, the read).
async function commits(): Promise<number> {
  await client.query('select pg_stat_force_next_flush()');
  await client.query('select 1');
  const { rows } = await client.query<{ n: string }>(
    'select xact_commit::text as n from pg_stat_database where datname = current_database()',
  );
  return Number(rows[0]!.n);
}

const OLD_RECORD = {
  name: 'ab_old_record',
  text: `with signals as (
     insert into risk_signals (login_id, account_id, features) values ($1, $3, $7::jsonb)
     on conflict (login_id) do update set features = excluded.features)
   insert into risk_assessments (login_id, client_id, account_id, score, decision, assessment) values ($1, $2, $3, $4, $5, $6::jsonb)
   on conflict (login_id) do update set score = excluded.score, decision = excluded.decision, assessment = excluded.assessment, at = now()`,
};
const OLD_AGGREGATES = {
  name: 'ab_old_aggregates',
  text: `insert into risk_aggregates (day, metric, key, count) select d::date, m, k, c from unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) as u(d, m, k, c)
   on conflict (day, metric, key) do update set count = risk_aggregates.count + excluded.count`,
};
// FraudService's statement itself (gateway/translation/fraud-service.ts), under a name of its own
const NEW_RECORD = { name: 'ab_new_record', text: RECORD_ASSESSMENTS.text };

const assessment = JSON.stringify({ score: 0.1, factors: ['new_device'], stages: [], decision: { kind: 'allow' } });
const features = JSON.stringify({ features: { ua: 'x'.repeat(43), net: 'y'.repeat(43) }, behaviour: null });
const day = new Date().toISOString().slice(0, 10);
const aggregates = [
  [day, day, day],
  ['decision', 'factor', 'idp'],
  ['allow', 'new_device', 'idp'],
  [1, 1, 1],
];

async function oldLogin(): Promise<void> {
  const id = randomUUID();
  await client.query({ ...OLD_RECORD, values: [id, 'rp', 'acct', 0.1, 'allow', assessment, features] });
  await client.query({ ...OLD_AGGREGATES, values: aggregates });
}
async function newLogin(): Promise<void> {
  const id = randomUUID();
  await client.query({
    ...NEW_RECORD,
    values: [[id], ['rp'], ['acct'], [0.1], ['allow'], [assessment], [features], ...aggregates],
  });
}

async function block(login: () => Promise<void>) {
  const c0 = await commits();
  const t0 = ticks();
  const u0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < PER_BLOCK; i++) await login();
  const wall = performance.now() - w0;
  const u = process.cpuUsage(u0);
  const pg = (ticks() - t0) * 10; // ms
  const c = (await commits()) - c0 - 3; // the commits() reads themselves are three
  return {
    node: (u.user + u.system) / 1000 / PER_BLOCK,
    pg: pg / PER_BLOCK,
    wall: wall / PER_BLOCK,
    commits: c / PER_BLOCK,
  };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (let i = 0; i < 3; i++) {
  // warm-up: both forms prepared, their plans settled
  await block(oldLogin);
  await block(newLogin);
}
const runs: Record<string, Array<Awaited<ReturnType<typeof block>>>> = { A: [], B: [], 'A (control)': [] };
for (let i = 0; i < BLOCKS; i++) {
  runs.A!.push(await block(oldLogin));
  runs.B!.push(await block(newLogin));
  runs['A (control)']!.push(await block(oldLogin));
}
console.log(`risk record A/B: ${BLOCKS} blocks × ${PER_BLOCK} logins each; per login, median of blocks`);
console.log('  A = assessment + signals, then aggregates (2 statements); B = one statement');
for (const [name, rs] of Object.entries(runs))
  console.log(
    `  ${name.padEnd(12)} node CPU ${median(rs.map((r) => r.node)).toFixed(3)} ms | PostgreSQL backend CPU ${median(rs.map((r) => r.pg)).toFixed(3)} ms | wall ${median(rs.map((r) => r.wall)).toFixed(3)} ms | commits ${median(rs.map((r) => r.commits)).toFixed(2)}`,
  );
client.release();
await pool.end();
