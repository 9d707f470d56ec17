/**
 * Where PostgreSQL's time goes per statement during a phase (BENCH_PG_STATEMENTS=1; needs the harness started
 * with HARNESS_PG_STATEMENTS=1, which preloads pg_stat_statements with planning tracked). Measurement only:
 * per login, each statement's calls, planning and execution time (server side, ms), top first.
 */
import type pg from 'pg';

export interface StatementRow {
  query: string;
  calls: number;
  plans: number;
  planMs: number;
  execMs: number;
}

/** Creates the extension in the benchmark's database if needed and clears the counters of that database. */
export async function resetStatements(client: pg.Client): Promise<void> {
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await client.query(
    'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)',
  );
}

/** The statements run in this database since the reset, heaviest (planning + execution) first. */
export async function readStatements(client: pg.Client): Promise<StatementRow[]> {
  const { rows } = await client.query<{ query: string; calls: string; plans: string; plan: number; exec: number }>(
    `SELECT query, calls, plans, total_plan_time AS plan, total_exec_time AS exec
       FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT ILIKE '%pg_stat_statements%'
      ORDER BY total_plan_time + total_exec_time DESC`,
  );
  return rows.map((r) => ({
    query: r.query,
    calls: Number(r.calls),
    plans: Number(r.plans),
    planMs: r.plan,
    execMs: r.exec,
  }));
}

/** Prints the rows per login: calls, plans, planning ms, execution ms, and the statement's first words. */
export function printStatements(name: string, rows: StatementRow[], logins: number, top = 25): void {
  const sum = (f: (r: StatementRow) => number) => rows.reduce((n, r) => n + f(r), 0) / logins;
  console.log(
    `  pg_stat_statements, ${name}, per login: ${sum((r) => r.calls).toFixed(2)} statements, ${sum((r) => r.plans).toFixed(2)} plans, planning ${sum((r) => r.planMs).toFixed(3)} ms, execution ${sum((r) => r.execMs).toFixed(3)} ms`,
  );
  console.log('    calls  plans  plan ms  exec ms  statement');
  for (const r of rows.slice(0, top)) {
    const text = r.query.replace(/\s+/g, ' ').slice(0, Number(process.env.BENCH_PG_TEXT ?? 110));
    console.log(
      `    ${(r.calls / logins).toFixed(2).padStart(5)}  ${(r.plans / logins).toFixed(2).padStart(5)}  ${(r.planMs / logins).toFixed(3).padStart(7)}  ${(r.execMs / logins).toFixed(3).padStart(7)}  ${text}`,
    );
  }
}
