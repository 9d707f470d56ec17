/**
 * Wiring of the read replica at boot: with `database.replicaUrl`, a second pool on the replica and the
 * heartbeat router (`replica-router.ts`), started; without it, the primary for every read.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { GatewayConfig } from '../config/types.ts';
import { createPool } from './postgres.ts';
import { ReplicaRouter, type LaggingReads, type ReplicaRouterEvents } from './replica-router.ts';

/**
 * @example
 * const laggingReads = startReplicaReads(config.database, pool, replicaWatch(registry, logger), closers);
 */
export function startReplicaReads(
  database: GatewayConfig['database'],
  primary: Pool,
  events: ReplicaRouterEvents,
  closers: Array<() => Promise<unknown>>,
): LaggingReads {
  if (database.replicaUrl === undefined || database.replicaLag === undefined) return { pool: () => primary };
  const replica = createPool(database.replicaUrl, { applicationName: 'gateway-replica-reads', max: 5 });
  closers.push(() => replica.end());
  const instance = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const router = new ReplicaRouter(primary, replica, database.replicaLag, instance, events);
  router.start();
  closers.push(async () => router.stop());
  return router;
}
