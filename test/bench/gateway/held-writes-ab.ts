/**
 * Issue #14 (ninth round), in-process A/B of the resumption's durable writes: the statements main issued
 * (A) against the held writes of this round (B), alternated in blocks in one process on one connection:
 *
 * - full login: A = the session's `put`, then the login's two upstream-session records' `putMany` (two
 *   statements); B = all three held and written in one statement;
 * - SSO login: A = `end` of the session's old cookie id, then the session's `put` (two statements); B = the
 *   end held and replaced by the write (one statement).
 *
 * Per operation: the gateway process's CPU (process.cpuUsage), the PostgreSQL backend's CPU (/proc of the
 * connection's backend), and wall time; median of the blocks, with an A/A control (A against A) to show the
 * noise. Counts do not need this: one statement fewer per operation by construction.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/held-writes-ab.ts
 */
import { randomBytes } from 'node:crypto';
import { DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { cpuMs } from './proc-stats.ts';

const BLOCKS = Number(process.env.BLOCKS ?? 20);
const OPS = Number(process.env.OPS ?? 40);
const pool = createPool(await freshDatabase(), { max: 1 });
const durable = new DurableTier(pool);
await durable.maintain(16, 7);
const backend = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

const record = (kind: StoredRecord['kind']): StoredRecord => ({
  recordKey: randomBytes(32),
  kind,
  lookupKey: kind === 'Session' ? randomBytes(32) : null,
  sidKeys: kind === 'Session' ? [randomBytes(32)] : [],
  grantKey: null,
  accountKey: randomBytes(32),
  idp: 'demo-idp',
  version: 1,
  state: 'active',
  dekVersion: 1,
  sealed: `s1.1.${randomBytes(300).toString('base64url')}`,
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 8 * 3600_000),
});
const none = async () => undefined;

type Op = (session: StoredRecord) => Promise<unknown>;
const scenarios: Record<string, { a: Op; b: Op; existing: boolean }> = {
  'full login resumption (session + 2 upstream records)': {
    existing: false,
    a: async (s) => {
      await durable.put(s);
      await durable.putMany([record('UpstreamSession'), record('UpstreamSession')]);
    },
    b: (s) =>
      durable.holdWrites(async () => {
        durable.hold([s]);
        durable.hold([record('UpstreamSession'), record('UpstreamSession')]);
      }, none),
  },
  'SSO resumption (end of the old cookie id + the session again)': {
    existing: true,
    a: async (s) => {
      await durable.end([s.recordKey]);
      await durable.put({ ...s, lookupKey: randomBytes(32) });
    },
    b: (s) =>
      durable.holdWrites(async () => {
        durable.holdEnd([s.recordKey], [s.lookupKey!]);
        durable.hold([{ ...s, lookupKey: randomBytes(32) }]);
      }, none),
  },
};

async function block(op: Op, existing: boolean): Promise<{ gw: number; pg: number; wall: number }> {
  const sessions = Array.from({ length: OPS }, () => record('Session'));
  if (existing) await durable.putMany(sessions);
  const c0 = process.cpuUsage();
  const p0 = cpuMs(backend);
  const t0 = performance.now();
  for (const s of sessions) await op(s);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { gw: (c.user + c.system) / 1000 / OPS, pg: (cpuMs(backend) - p0) / OPS, wall: wall / OPS };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => median(xs).toFixed(3);
for (const [name, { a, b, existing }] of Object.entries(scenarios)) {
  await block(a, existing); // warm-up: named statements prepared, plans cached
  await block(b, existing);
  const runs: Record<'A' | 'B' | "A'", Array<{ gw: number; pg: number; wall: number }>> = { A: [], B: [], "A'": [] };
  for (let i = 0; i < BLOCKS; i++) {
    const order: Array<['A' | 'B' | "A'", Op]> =
      i % 2 === 0
        ? [
            ['A', a],
            ['B', b],
            ["A'", a],
          ]
        : [
            ["A'", a],
            ['B', b],
            ['A', a],
          ];
    for (const [label, op] of order) runs[label].push(await block(op, existing));
  }
  console.log(`${name}: ${BLOCKS} blocks × ${OPS} operations, median ms per operation`);
  for (const label of ['A', "A'", 'B'] as const) {
    const r = runs[label];
    console.log(
      `  ${label.padEnd(2)} gateway CPU ${fmt(r.map((x) => x.gw))} | PostgreSQL backend CPU ${fmt(r.map((x) => x.pg))} | wall ${fmt(r.map((x) => x.wall))}`,
    );
  }
}
await pool.end();
