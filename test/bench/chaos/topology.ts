/**
 * The chaos run's bed (issue #15): a PostgreSQL primary of the run's own with a real streaming replica
 * (`pg_basebackup -R`, hot standby) that the gateway reads through its heartbeat router
 * (`database.replicaUrl`, gateway/store/replica-router.ts), Redis under Sentinel (1 primary, 1 replica, 3
 * sentinels), the stack's SoftHSM2 token, and two gateway processes (`node gateway/main.ts`) behind a
 * round-robin balancer.
 *
 * What the bench sets beyond a default deployment, and why:
 * - `hsm`: one session per process, 8 callers waiting at most for 2 s, new logins shed above 2 waiting: a
 *   small HSM partition, so that a burst of signing requests saturates it on a 2-core machine;
 * - `risk.overload`: the production thresholds (rule-only above a p99 of 500 ms, back below 200 ms) over
 *   shorter windows (the last 5 assessments of 15 s, 2 before any decision, back after 10 s of fast probes,
 *   one probe in 2; production: 1000 of 60 s, 20, 60 s, 1 in 10), so that a phase of a few dozen logins can
 *   enter and leave rule-only mode;
 * - `database.replicaLag`: a heartbeat every 250 ms, the replica earned back after 3 s (instead of 1 s / 30 s).
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { prepareDeployment, startGatewayProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { startPostgresReplica } from '../../harness/services/postgres-replica.ts';
import { startPostgres } from '../../harness/services/postgres.ts';
import { startRedisSentinel } from '../../harness/services/redis-sentinel.ts';
import { startRoundRobinProxy } from '../../harness/services/round-robin-proxy.ts';
import type { TokenHandle } from '../../harness/services/softhsm.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import type { ChaosBed, GatewayProcess } from './bed.ts';

export const RP = 'http://127.0.0.1:9/callback';

export const BENCH_HSM = { poolSize: 1, maxWaiting: 8, acquireTimeoutMs: 2_000, shedQueueDepth: 2 };
export const BENCH_RISK_OVERLOAD = {
  windowSize: 5,
  minSamples: 2,
  windowMs: 15_000,
  recoverAfterMs: 10_000,
  probeEvery: 2,
};
export const BENCH_REPLICA_LAG = { heartbeatMs: 250, maxMs: 1_000, recoverMs: 100, recoverSeconds: 3 };

export async function startChaosBed(): Promise<{ bed: ChaosBed; token: TokenHandle; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-chaos-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'gw-chaos-db-'));
  const replicaDir = mkdtempSync(join(tmpdir(), 'gw-chaos-replica-'));
  chmodSync(replicaDir, 0o711);
  const postgres = await startPostgres(pgDir, await freePort());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('create database gw');
  await admin.end();
  const pgUrl = postgres.url.replace(/\/postgres$/, '/gw');
  const pool = createPool(pgUrl, { max: 2, connectionTimeoutMs: 1_000 });
  pool.on('error', () => undefined);
  await migrate(pool);
  const replica = await startPostgresReplica(replicaDir, postgres.port, await freePort());

  const publicPort = await freePort();
  const token = freshToken();
  const deployment = await prepareDeployment({
    dir,
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    gatewayPort: publicPort,
    rpRedirectUri: RP,
    logLevel: 'warn',
    riskPolicyFile: permissivePolicyFile(dir), // the same people log in over and over: the policy is not under test
  });
  const raw = deployment.rawConfig;
  raw.database = {
    url: { env: 'GW_DATABASE_URL' },
    replicaUrl: { env: 'GW_DATABASE_REPLICA_URL' },
    replicaLag: BENCH_REPLICA_LAG,
  };
  deployment.env.GW_DATABASE_REPLICA_URL = replica.urlOf('gw');
  raw.hsm = { ...(raw.hsm as object), ...BENCH_HSM };
  raw.risk = { ...(raw.risk as object), overload: BENCH_RISK_OVERLOAD };
  // the HSM-saturation fault floods one login's signed assessment from one address: its per-login bucket (ten,
  // then three a minute) and the address's (2,000, then 200 a second) would answer 429 before the HSM is reached
  raw.rateLimit = {
    ...((raw.rateLimit as object | undefined) ?? {}),
    perLoginAssessment: { capacity: 10_000_000, perSecond: 1_000_000 },
    perIp: { capacity: 10_000_000, perSecond: 1_000_000 },
  };
  const sentinel = await startRedisSentinel(mkdtempSync(join(tmpdir(), 'gw-chaos-sentinel-')));
  raw.redis = {
    sentinels: sentinel.addresses,
    name: sentinel.name,
    keyPrefix: (raw.redis as { keyPrefix: string }).keyPrefix,
    commandTimeoutMs: 1_000,
  };
  let serial = 0;
  const startProcess = async (): Promise<GatewayProcess> =>
    startGatewayProcess(deployment, await freePort(), join(dir, `gateway-${(serial += 1)}.log`));
  const bed: ChaosBed = {
    dir,
    pool,
    postgres,
    pgDir,
    replica,
    processes: [await startProcess(), await startProcess()],
    startProcess,
    deployment,
    sentinel,
  };
  const balancer = await startRoundRobinProxy(publicPort, () => bed.processes.map((p) => p.url));
  return {
    bed,
    token,
    async stop() {
      console.log(`balancer: ${[...balancer.served.values()].reduce((a, b) => a + b, 0)} requests; logs in ${dir}`);
      await balancer.stop();
      for (const p of bed.processes) await p.stop();
      await deployment.stop();
      await pool.end();
      await replica.stop();
      await bed.postgres.stop();
      await sentinel.stop();
    },
  };
}
