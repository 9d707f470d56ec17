/**
 * The chaos run's shapes: the bed the faults act on (topology.ts builds it) and what a fault is.
 */
import type { Pool } from 'pg';
import type { Deployment, startGatewayProcess } from '../../harness/deployment.ts';
import type { PostgresReplicaHandle } from '../../harness/services/postgres-replica.ts';
import type { PostgresHandle } from '../../harness/services/postgres.ts';
import type { RedisSentinelHandle } from '../../harness/services/redis-sentinel.ts';
import type { LoginResult } from './ledger.ts';

export type GatewayProcess = Awaited<ReturnType<typeof startGatewayProcess>>;

export interface ChaosBed {
  dir: string;
  deployment: Deployment;
  /** The bench's own pool on the primary (audit counts, `audit verify`). */
  pool: Pool;
  postgres: PostgresHandle;
  pgDir: string;
  /** The streaming replica of `postgres` the gateway reads through (`database.replicaUrl`). */
  replica: PostgresReplicaHandle;
  /** The processes behind the balancer now (it reads this list on every request). */
  processes: GatewayProcess[];
  startProcess(): Promise<GatewayProcess>;
  /** Redis under Sentinel: 1 primary, 1 replica, 3 sentinels. */
  sentinel: RedisSentinelHandle;
}

/** One phase as the fault's report sees it. */
export interface PhaseView {
  /** When the phase's load began, the fault began, and the fault was over (ms since the epoch). */
  startedAt: number;
  faultAt: number;
  faultEnd: number;
  results: readonly LoginResult[];
  /** Where each gateway log file ended when the phase began (gateway-logs.ts `linesSince`). */
  logOffsets: Map<string, number>;
}

export interface Fault {
  what: string;
  /**
   * `start`: an instant fault (a kill, a failover, a restart): recovery counts from its start. `end`: a
   * fault held for a while (a load, a slowness): recovery counts from its end.
   */
  recoveryFrom: 'start' | 'end';
  /** Work before the phase's logins begin (not counted), e.g. an access token of the bench's own. */
  prepare?(bed: ChaosBed): Promise<void>;
  /** Starts the fault while logins go on; resolves once it is over, with how to heal what it broke. */
  inject(bed: ChaosBed): Promise<() => Promise<void>>;
  /** The phase goes on until this is true too (e.g. rule-only mode left), 120 s after the fault at most. */
  settled?(bed: ChaosBed): Promise<boolean>;
  /** What the phase showed beyond the ledger's figures. */
  report?(bed: ChaosBed, phase: PhaseView): Promise<FaultReport>;
}

export interface FaultReport {
  /** One line each. */
  notes: string[];
  /** Whether the fault had the effect it is there for (a fault that took no effect proves nothing: the run fails). */
  took: boolean;
}
