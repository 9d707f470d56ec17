/**
 * The chaos run of issue #15: two gateway processes behind a round-robin balancer, a steady login load
 * (two browsers logging people in back to back), and one fault per phase. Per fault it prints logins
 * attempted / completed / failed with a code / bare 500s / lost (a code without its audit trail), audit
 * records expected vs found, time to recover, and at the end whether `audit verify` passes over the whole
 * log. Target: 0 lost, 0 unaudited, 0 × 500.
 *
 *   node test/harness/with-stack.ts -- node test/bench/chaos/chaos.bench.ts
 *   CHAOS_LOGINS=40 CHAOS_FAULTS=kill-9,redis-failover,postgres-restart node test/harness/with-stack.ts -- node test/bench/chaos/chaos.bench.ts
 *
 * PostgreSQL is a server of this run's own (so it can be restarted); Redis runs under Sentinel (1 primary, 1
 * replica, 3 sentinels, this run's own); the token is the stack's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import pg from 'pg';
import { verifyAuditChain } from '../../../gateway/audit/verify.ts';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { prepareDeployment, startGatewayProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { startPostgres } from '../../harness/services/postgres.ts';
import { startRedisSentinel } from '../../harness/services/redis-sentinel.ts';
import { startRoundRobinProxy } from '../../harness/services/round-robin-proxy.ts';
import { genesisOnly } from '../../helpers/audit-anchor.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { FAULTS, type ChaosBed, type GatewayProcess } from './faults.ts';
import { errorOf, tally, type LoginResult, type PhaseFigures } from './ledger.ts';

const LOGINS = Number(process.env.CHAOS_LOGINS ?? 24);
const FAULT_AFTER = Math.max(2, Math.floor(LOGINS / 4));
const BROWSERS = 2;
const RP = 'http://127.0.0.1:9/callback';
const chosen = (process.env.CHAOS_FAULTS ?? Object.keys(FAULTS).join(',')).split(',');

const dir = mkdtempSync(join(tmpdir(), 'gw-chaos-'));
const pgDir = mkdtempSync(join(tmpdir(), 'gw-chaos-db-'));
const postgres = await startPostgres(pgDir, await freePort());
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query('create database gw');
await admin.end();
const pgUrl = postgres.url.replace(/\/postgres$/, '/gw');
const pool = createPool(pgUrl, { max: 2, connectionTimeoutMs: 1_000 });
pool.on('error', () => undefined);
await migrate(pool);

const publicPort = await freePort();
const deployment = await prepareDeployment({
  dir,
  pgUrl,
  redisUrl: redisUrl(),
  redisKeyPrefix: redisPrefix(),
  token: freshToken(),
  gatewayPort: publicPort,
  rpRedirectUri: RP,
  logLevel: 'warn',
  riskPolicyFile: permissivePolicyFile(dir), // the same people log in over and over: the policy is not under test
});
// Redis under Sentinel (1 primary, 1 replica, 3 sentinels), as a production deployment runs it
const sentinel = await startRedisSentinel(mkdtempSync(join(tmpdir(), 'gw-chaos-sentinel-')));
deployment.rawConfig.redis = {
  sentinels: sentinel.addresses,
  name: sentinel.name,
  keyPrefix: (deployment.rawConfig.redis as { keyPrefix: string }).keyPrefix,
  commandTimeoutMs: 1_000,
};
let serial = 0;
const startProcess = async (): Promise<GatewayProcess> =>
  startGatewayProcess(deployment, await freePort(), join(dir, `gateway-${(serial += 1)}.log`));
const bed: ChaosBed = {
  dir,
  postgres,
  pgDir,
  processes: [await startProcess(), await startProcess()],
  startProcess,
  deployment,
  sentinel,
};
const balancer = await startRoundRobinProxy(publicPort, () => bed.processes.map((p) => p.url));
const rp = await oidc.discovery(
  new URL(deployment.gatewayUrl),
  deployment.client.client_id,
  deployment.client.client_secret,
  undefined,
  { execute: [oidc.allowInsecureRequests] },
);

async function oneLogin(n: number): Promise<LoginResult> {
  const startedAt = Date.now();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
  });
  try {
    const journey = await loginJourney(url, { username: n % 2 ? 'jean' : 'marie', redirectUri: RP });
    const code = journey.url.searchParams.get('code');
    return {
      startedAt,
      endedAt: Date.now(),
      ...(journey.loginId ? { loginId: journey.loginId } : {}),
      ended: code
        ? 'code'
        : { code: errorOf(journey.url.searchParams.get('error') ?? journey.html), status: journey.status },
    };
  } catch (error) {
    // the journey met a page it did not expect (e.g. the balancer's 502 for a request the killed process held)
    const status = Number(/HTTP (\d{3})/.exec((error as Error).message)?.[1] ?? 0);
    return { startedAt, endedAt: Date.now(), ended: { code: 'UNEXPECTED_PAGE', status } };
  }
}

async function auditRows(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from audit_log');
  return rows[0]!.n;
}

/** Waits until the audit log stops growing (the processes' spools have drained) for 3 s, 60 s at most. */
async function settle(): Promise<void> {
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 120 && stable < 6; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await auditRows().catch(() => -1);
    stable = now === last && now >= 0 ? stable + 1 : 0;
    last = now;
  }
}

const figures: PhaseFigures[] = [];
for (const name of chosen) {
  const fault = FAULTS[name];
  if (!fault) throw new Error(`unknown fault ${name}; known: ${Object.keys(FAULTS).join(', ')}`);
  process.stdout.write(`fault ${name}: ${LOGINS} logins, the fault after ${FAULT_AFTER} … `);
  const results: LoginResult[] = [];
  let started = 0;
  let faultAt = Number.POSITIVE_INFINITY;
  let injected: Promise<() => Promise<void>> | undefined;
  // a phase goes on after its LOGINS until a login begun after the fault has completed (the recovery), 60 s at
  // most; a person whose login failed tries again a second later (failures are fast: without the pause a
  // phase would be over before a failover is)
  const recovered = () => results.some((r) => r.ended === 'code' && r.startedAt >= faultAt);
  const browser = async () => {
    while (started < LOGINS || (!recovered() && Date.now() - faultAt < 60_000)) {
      const n = (started += 1);
      if (n === FAULT_AFTER + 1) {
        faultAt = Date.now();
        injected = fault.inject(bed);
      }
      const result = await oneLogin(n);
      results.push(result);
      if (result.ended !== 'code') await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  await Promise.all(Array.from({ length: BROWSERS }, browser));
  const heal = await injected;
  await heal?.();
  await settle();
  const phase = await tally(pool, name, faultAt, results);
  figures.push(phase);
  console.log(
    `${phase.completed} completed, ${phase.failedWithCode} failed with a code, ${phase.internal} × 500, ${phase.lost} lost`,
  );
}

const verified = await verifyAuditChain(pool, genesisOnly());
console.log(
  `\n| fault | attempted | completed | failed with a code | × 500 | lost | audit expected / found | recovery |\n|---|---|---|---|---|---|---|---|`,
);
for (const f of figures)
  console.log(
    `| ${f.fault} | ${f.attempted} | ${f.completed} | ${f.failedWithCode}${
      Object.keys(f.codes).length
        ? ` (${Object.entries(f.codes)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')})`
        : ''
    } | ${f.internal} | ${f.lost} | ${f.auditExpected} / ${f.auditFound} | ${f.recoveryMs === null ? 'none' : `${(f.recoveryMs / 1000).toFixed(1)} s`} |`,
  );
console.log(
  `\naudit verify over the whole log: ${verified.ok ? 'passes' : `FAILS ${JSON.stringify(verified).slice(0, 400)}`}`,
);
console.log(`balancer: ${[...balancer.served.values()].reduce((a, b) => a + b, 0)} requests; logs in ${dir}`);

await balancer.stop();
for (const p of bed.processes) await p.stop();
await deployment.stop();
await pool.end();
await bed.postgres.stop();
await sentinel.stop();
const bad = figures.some((f) => f.lost || f.internal || f.auditFound < f.auditExpected) || !verified.ok;
process.exit(bad ? 1 : 0);
