/**
 * The faults of the chaos run, one per phase. Each `inject` starts the fault while logins go on and
 * returns how to heal it once the phase's logins are done (a killed process is replaced, a stopped
 * server is started again: the next phase starts whole).
 */
import type { Deployment } from '../../harness/deployment.ts';
import type { RedisSentinelHandle } from '../../harness/services/redis-sentinel.ts';
import { startPostgres, type PostgresHandle } from '../../harness/services/postgres.ts';
import type { startGatewayProcess } from '../../harness/deployment.ts';

export type GatewayProcess = Awaited<ReturnType<typeof startGatewayProcess>>;

export interface ChaosBed {
  dir: string;
  deployment: Deployment;
  postgres: PostgresHandle;
  pgDir: string;
  /** The processes behind the balancer now (it reads this list on every request). */
  processes: GatewayProcess[];
  startProcess(): Promise<GatewayProcess>;
  /** Redis under Sentinel: 1 primary, 1 replica, 3 sentinels. */
  sentinel: RedisSentinelHandle;
}

export interface Fault {
  what: string;
  inject(bed: ChaosBed): Promise<() => Promise<void>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const FAULTS: Record<string, Fault> = {
  'kill-9': {
    what: 'one gateway process killed with SIGKILL mid-load; the balancer takes it out at once',
    async inject(bed) {
      const victim = bed.processes[0]!;
      const exited = new Promise((resolve) => victim.child.once('exit', resolve));
      victim.child.kill('SIGKILL');
      await exited;
      bed.processes = bed.processes.filter((p) => p !== victim);
      return async () => {
        bed.processes = [...bed.processes, await bed.startProcess()];
      };
    },
  },
  'redis-failover': {
    what: 'the Redis primary killed (SIGKILL); the sentinels promote the replica (down-after 1 s)',
    async inject(bed) {
      const before = await bed.sentinel.currentPrimaryPort();
      const primary = before === bed.sentinel.primary.port ? bed.sentinel.primary : bed.sentinel.replica;
      await primary.kill();
      for (let i = 0; i < 300 && (await bed.sentinel.currentPrimaryPort().catch(() => before)) === before; i += 1)
        await sleep(100);
      return async () => undefined; // the next phases run on the promoted replica
    },
  },
  'postgres-restart': {
    what: 'PostgreSQL stopped (fast shutdown) and started again 2 s later',
    async inject(bed) {
      await bed.postgres.stop();
      await sleep(2_000);
      bed.postgres = await startPostgres(bed.pgDir, bed.postgres.port);
      return async () => undefined;
    },
  },
};
