/**
 * Test fixtures for the login state machine: real PostgreSQL and Redis, a clock the test moves,
 * and a path through the state table to put a login in any state.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { LoginFlow } from '../../../gateway/flow/login-flow.ts';
import { STATES, INITIAL_STATE, type LoginState } from '../../../gateway/flow/states.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { migratedPool } from '../store/fixtures.ts';

export interface FlowStack {
  pool: Pool;
  audit: AuditLog;
  clock: { now: number };
  /** A new instance of the gateway's flow on the same PostgreSQL and Redis (own Redis connection). */
  instance(audit?: AuditLog): LoginFlow;
  /** A Redis client with the same key prefix as the flow's, to look at what it stored. */
  redis(): Redis;
  flow: LoginFlow;
  close(): Promise<void>;
}

export async function flowStack(): Promise<FlowStack> {
  const pool = await migratedPool();
  const audit = new AuditLog(pool);
  const prefix = redisPrefix();
  const clock = { now: Date.UTC(2030, 0, 1) };
  const clients: Redis[] = [];
  const redis = (): Redis => {
    const client = createRedis({ url: redisUrl(), keyPrefix: prefix });
    clients.push(client);
    return client;
  };
  const instance = (withAudit: AuditLog = audit): LoginFlow =>
    new LoginFlow({ redis: redis(), audit: withAudit, now: () => clock.now });
  return {
    pool,
    audit,
    clock,
    instance,
    redis,
    flow: instance(),
    async close() {
      await Promise.all(clients.map((client) => client.quit()));
      await pool.end();
    },
  };
}

/** The shortest path of legal transitions from INITIATED to `target` (excluding INITIATED). */
export function pathTo(target: LoginState): LoginState[] {
  const previous = new Map<LoginState, LoginState | null>([[INITIAL_STATE, null]]);
  const queue: LoginState[] = [INITIAL_STATE];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const next of STATES[state].next as readonly LoginState[]) {
      if (previous.has(next)) continue;
      previous.set(next, state);
      queue.push(next);
    }
  }
  if (!previous.has(target)) throw new Error(`${target} is unreachable`);
  const path: LoginState[] = [];
  for (let state: LoginState | null = target; state && state !== INITIAL_STATE; state = previous.get(state) ?? null)
    path.unshift(state);
  return path;
}

/** Starts a login and walks it to `state`. */
export async function loginIn(flow: LoginFlow, loginId: string, state: LoginState): Promise<void> {
  await flow.start(loginId, { clientId: 'rp-test', requestId: 'req-start', acrValues: ['eidas2'] });
  for (const step of pathTo(state)) await flow.transition(loginId, step, { component: 'test-setup' });
}

/** Every (from, to) pair the table allows. */
export function legalEdges(): Array<[LoginState, LoginState]> {
  return (Object.keys(STATES) as LoginState[]).flatMap((from) =>
    (STATES[from].next as readonly LoginState[]).map((to): [LoginState, LoginState] => [from, to]),
  );
}

let counter = 0;
/** A login id unique within the test run. */
export function newLoginId(label: string): string {
  counter += 1;
  return `login-${label}-${process.pid}-${counter}`;
}
