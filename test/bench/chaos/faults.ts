/**
 * The faults of the chaos run, one per phase, in the order of issue #15. Each `inject` starts the fault while
 * logins go on and returns how to heal it once the phase's logins are done (a killed process is replaced,
 * a stopped server is started again: the next phase starts whole).
 */
import type { ChaosBed, Fault } from './bed.ts';
import { hsmSaturation } from './hsm-saturation.ts';
import { postgresRestart } from './postgres-restart.ts';
import { slowRisk } from './slow-risk.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const FAULTS: Record<string, Fault> = {
  'kill-9': {
    what: 'one gateway process killed with SIGKILL mid-load; the balancer takes it out at once',
    recoveryFrom: 'start',
    async inject(bed: ChaosBed) {
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
    recoveryFrom: 'start',
    async inject(bed: ChaosBed) {
      const before = await bed.sentinel.currentPrimaryPort();
      const primary = before === bed.sentinel.primary.port ? bed.sentinel.primary : bed.sentinel.replica;
      await primary.kill();
      for (let i = 0; i < 300 && (await bed.sentinel.currentPrimaryPort().catch(() => before)) === before; i += 1)
        await sleep(100);
      return async () => undefined; // the next phases run on the promoted replica
    },
  },
  'postgres-restart': postgresRestart(),
  'hsm-saturation': hsmSaturation(),
  'slow-risk': slowRisk(),
};
