/**
 * Gateway-only logins: the gateway alone in a child process (`node gateway/main.ts`), and in this process a
 * fast IdP (pre-minted Assertion, one cheap signature per login, see fast-idp.ts) and a fast RP + browser
 * (fast-rp.ts). Per phase — full login through the IdP, then SSO (a second authorization with the gateway
 * session cookie: a login of its own through the risk pipeline, via the interaction redirects), then silent
 * SSO (`prompt=none`: the same login decided while the authorization request is answered) — it prints logins/s, p50/p99, and CPU per login of the gateway process, of PostgreSQL
 * (postmaster tree) and of Redis, read from /proc; the round trips the gateway made (probe inside the
 * gateway + Redis INFO commandstats + pg_stat_database xact_commit); the gateway's RSS; and at the end the
 * HSM crypto floor of the same keys, Redis bytes per in-flight login and per completed login.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/gateway-only.bench.ts
 *
 * Environment: LOGINS (per round, default 200; BENCH_QUICK=1: 40), CONCURRENCY (8), ROUNDS (3),
 * BENCH_IDP_KEY (ec | rsa: the fast IdP's key, declared in its metadata as `alg:SigningMethod`; the token
 * holds an ES256 `saml` key besides the RSA one, so AuthnRequests to the `ec` IdP are signed with ECDSA
 * P-256 and to the `rsa` IdP with RSA-3072), BENCH_CLIENT_ALG (the bench client's
 * `id_token_signed_response_alg` and `access_token_signed_response_alg`: RS256 by default, ES256; so
 * BENCH_IDP_KEY=ec BENCH_CLIENT_ALG=ES256 is an all-ECDSA login), BENCH_ACCESS_TOKEN_FORMAT (jwt, the default, or
 * opaque: the bench client's `access_token_format`, no access-token signature), BENCH_LOG_LEVEL (gateway logging.level, default info),
 * BENCH_STORES (tcp, the default, or unix: the gateway reaches PostgreSQL and Redis through their Unix sockets, as a
 * deployment with its stores on the gateway's host may), BENCH_GATEWAY_NODE_ARGS (Node / V8 flags for the gateway process alone, space-separated: `--single-threaded-gc`),
 * BENCH_CPU_PROF (a folder: one .cpuprofile of the gateway per measured phase, from V8's sampling profiler
 * started and stopped around the phase; BENCH_CPU_PROF_WHOLE=1 adds `node --cpu-prof` over the whole
 * process; summarise with test/bench/gateway/summarise-cpuprofile.ts — profiled runs cost more CPU, so
 * their CPU figures are not the benchmark's), BENCH_HEAP_PROF=1 (with BENCH_CPU_PROF: also a .heapprofile per
 * phase, every sampled allocation, freed or not; summarise-heapprofile.ts gives the bytes allocated per login).
 *
 * After the rounds, one phase at concurrency 1 gives the CPU per route (requests do not overlap there).
 *
 * The probe inside the gateway (gateway-probe.ts) costs CPU of its own, which /proc counts as the gateway's.
 * Every phase whose CPU is printed as the benchmark's runs it at the `cheap` level (integer counters: totals
 * of queries, commands, round trips, socket writes, HSM signatures; the route timing of the concurrency-1
 * phases, two process.cpuUsage calls per request). The tables by statement, command and key shape come
 * from three short phases at the `detail` level at the end (BENCH_DETAIL_LOGINS, default 10 each; and
 * BENCH_ORIGINS there only), whose CPU line is marked as not the benchmark's. probe-overhead-ab.ts measures
 * what the `cheap` and `detail` levels cost against none.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { prepareDeployment } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { freshDatabase, freshToken, overUnixSockets, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { cryptoFloor } from './crypto-floor.ts';
import { startFastIdp } from './fast-idp.ts';
import { discoverRp, RP_REDIRECT, type PersonBrowser } from './fast-rp.ts';
import { startGatewayProcess } from './gateway-process.ts';
import { cpuMs, cpuSplitMs, postmasterPid, rssMiB, threadCpuMs, treeCpuMs } from './proc-stats.ts';
import { bytesPer, commandStats, keySnapshot } from './redis-memory.ts';
import { runPhase, type PhaseResult } from './run-phase.ts';
import { printPhase, printRoutes, printSpread } from './report.ts';
import { printStatements, readStatements, resetStatements } from './pg-statements.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const LOGINS = Number(process.env.LOGINS ?? (QUICK ? 40 : 200));
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const KEY_KIND = process.env.BENCH_IDP_KEY === 'rsa' ? 'rsa' : 'ec';
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const CLIENT_ALG = process.env.BENCH_CLIENT_ALG ?? 'RS256';
if (CLIENT_ALG !== 'RS256' && CLIENT_ALG !== 'ES256')
  throw new Error(`BENCH_CLIENT_ALG: RS256 or ES256, not ${CLIENT_ALG}`);
const AT_FORMAT = process.env.BENCH_ACCESS_TOKEN_FORMAT ?? 'jwt';
if (AT_FORMAT !== 'jwt' && AT_FORMAT !== 'opaque')
  throw new Error(`BENCH_ACCESS_TOKEN_FORMAT: jwt or opaque, not ${AT_FORMAT}`);
const PACED = process.env.BENCH_PACED === '1';
const STORES = process.env.BENCH_STORES ?? 'tcp';
if (STORES !== 'tcp' && STORES !== 'unix') throw new Error(`BENCH_STORES: tcp or unix, not ${STORES}`);
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1'; // needs HARNESS_PG_STATEMENTS=1
const COMMAND = `node test/harness/with-stack.ts -- node test/bench/gateway/gateway-only.bench.ts   # LOGINS=${LOGINS} CONCURRENCY=${CONCURRENCY} ROUNDS=${ROUNDS} BENCH_IDP_KEY=${KEY_KIND} BENCH_CLIENT_ALG=${CLIENT_ALG}${AT_FORMAT === 'opaque' ? ' BENCH_ACCESS_TOKEN_FORMAT=opaque' : ''} BENCH_WORKERS=${WORKERS}${STORES === 'unix' ? ' BENCH_STORES=unix' : ''}${PACED ? ' BENCH_PACED=1' : ''}${process.env.BENCH_CPU_PROF ? ` BENCH_CPU_PROF=${process.env.BENCH_CPU_PROF}` : ''}${process.env.BENCH_HEAP_PROF === '1' ? ' BENCH_HEAP_PROF=1' : ''}${process.env.BENCH_GATEWAY_NODE_ARGS ? ` BENCH_GATEWAY_NODE_ARGS='${process.env.BENCH_GATEWAY_NODE_ARGS}'` : ''}`;

const testDir = process.env.GW_TEST_DIR!;
const dir = mkdtempSync(join(testDir, 'gateway-only-'));
const token = freshToken();
const pgUrl = await freshDatabase();
const prefix = redisPrefix();
const port = await freePort();
// BENCH_STORES=unix: the gateway reaches PostgreSQL and Redis through their Unix sockets (stores on its host)
const sockets = STORES === 'unix' ? overUnixSockets() : undefined;
const deployment = await prepareDeployment({
  dir,
  pgUrl: sockets ? sockets.pg(pgUrl) : pgUrl,
  redisUrl: sockets ? sockets.redis : redisUrl(),
  redisKeyPrefix: prefix,
  token,
  gatewayPort: port,
  rpRedirectUri: RP_REDIRECT,
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  extraKeys: [{ purpose: 'saml', alg: 'ES256' }],
});
const idp = startFastIdp(dir, 'http://127.0.0.1:9', KEY_KIND);
// `workers: 1` (default): one process, the probes read it. BENCH_WORKERS=N: a cluster primary and N workers;
// CPU is then the sum over the primary's process tree (every worker), and the probe's counts (in the
// primary, which serves nothing) are not the workers'.
const rawConfig = {
  ...deployment.rawConfig,
  workers: WORKERS,
  trustedProxies: ['127.0.0.1'],
  clients: (deployment.rawConfig.clients as Record<string, unknown>[]).map((client) =>
    client.client_id === deployment.client.client_id
      ? {
          ...client,
          id_token_signed_response_alg: CLIENT_ALG,
          ...(AT_FORMAT === 'opaque'
            ? { access_token_format: 'opaque' }
            : { access_token_signed_response_alg: CLIENT_ALG }),
        }
      : client,
  ),
  saml: {
    idps: [
      {
        id: 'bench-idp',
        displayName: 'Benchmark IdP',
        metadataFile: idp.metadataFile,
        maxLoa: 'http://eidas.europa.eu/LoA/high',
      },
    ],
  },
};
process.env.BENCH_REDIS_PREFIX = prefix; // the probe shows Redis keys without it
if (process.env.BENCH_CPU_PROF) mkdirSync(process.env.BENCH_CPU_PROF, { recursive: true });
const logFile = join(dir, 'gateway.log');
const gateway = await startGatewayProcess(rawConfig, deployment.env, {
  configFile: join(dir, 'bench.config.json'),
  logFile,
  cpuProfDir: process.env.BENCH_CPU_PROF_WHOLE === '1' ? process.env.BENCH_CPU_PROF : undefined,
});
const redis = new Redis(redisUrl(), { lazyConnect: false });
const pgAdmin = new pg.Client({ connectionString: pgUrl });
await pgAdmin.connect();
const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
const pgPid = postmasterPid(join(testDir, 'postgres', 'data'));
const database = new URL(pgUrl).pathname.slice(1);

const xacts = async () =>
  Number(
    (
      await pgAdmin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [
        database,
      ])
    ).rows[0].n,
  );
const settle = () => new Promise((resolve) => setTimeout(resolve, 1200)); // pg stats are flushed ≤ 1 s after a transaction

try {
  const rp = await discoverRp(
    { gatewayUrl: gateway.url, clientId: deployment.client.client_id, clientSecret: deployment.client.client_secret },
    idp,
    'bench-idp',
  );
  console.log(
    `gateway-only logins on Node ${process.versions.node}: gateway pid ${gateway.pid} (${WORKERS === 1 ? '1 process' : `cluster primary + ${WORKERS} workers: CPU summed over the tree; round-trip counts below are the primary's only, read them from a BENCH_WORKERS=1 run`}), PostgreSQL postmaster ${pgPid}, Redis ${redisPid}; fast IdP key ${KEY_KIND === 'ec' ? 'ECDSA P-256 (ecdsa-sha256)' : 'RSA-3072 (rsa-sha256)'}; client ID tokens ${CLIENT_ALG}; IdP + RP + browser in the benchmark process\n$ ${COMMAND}`,
  );
  for (let i = 0; i < 20; i++) await rp.ssoLogin(await rp.fullLogin()); // warm-up (JIT, pools, caches)
  await settle();
  const rssAtRest = rssMiB(gateway.pid);
  const memoryAtRest = await gateway.memoryAfterGc();
  const idleBefore = { gw: treeCpuMs(gateway.pid), pg: treeCpuMs(pgPid), redis: cpuMs(redisPid) };
  await new Promise((resolve) => setTimeout(resolve, 3000));
  console.log(
    `at rest (3 s, no traffic): CPU ms per second: gateway ${((treeCpuMs(gateway.pid) - idleBefore.gw) / 3).toFixed(1)} | PostgreSQL ${((treeCpuMs(pgPid) - idleBefore.pg) / 3).toFixed(1)} | Redis ${((cpuMs(redisPid) - idleBefore.redis) / 3).toFixed(1)}; gateway RSS ${rssAtRest.toFixed(0)} MiB`,
  );

  const profileDir = process.env.BENCH_CPU_PROF;
  const measure = async (
    name: string,
    work: () => Promise<void>,
    count: number,
    concurrency = CONCURRENCY,
    ratePerSecond?: number,
    level: 'cheap' | 'detail' = 'cheap',
  ): Promise<PhaseResult> => {
    const stopProfile = profileDir && level === 'cheap' ? await gateway.startProfile() : undefined;
    if (PG_STATEMENTS) await resetStatements(pgAdmin);
    await gateway.resetProbe(level, concurrency === 1 && level === 'cheap');
    const beforeSplit = cpuSplitMs(gateway.pid);
    const beforeThreads = threadCpuMs(gateway.pid);
    const before = {
      gw: treeCpuMs(gateway.pid),
      pg: treeCpuMs(pgPid),
      redis: cpuMs(redisPid),
      cmds: await commandStats(redis),
      xacts: await xacts(),
    };
    const logBefore = statSync(logFile).size;
    const result = await runPhase(name, count, concurrency, work, () => rssMiB(gateway.pid), ratePerSecond);
    const logged = readFileSync(logFile).subarray(logBefore);
    let logLines = 0;
    for (const byte of logged) if (byte === 0x0a) logLines += 1;
    const logByMessage: Record<string, number> = {};
    for (const line of logged.toString('utf8').split('\n')) {
      if (!line) continue;
      let key = 'not JSON';
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        key = `${entry.level ?? '?'} ${entry.msg ?? ''}`;
      } catch {
        // a line that is not pino's
      }
      logByMessage[key] = (logByMessage[key] ?? 0) + 1;
    }
    const after = { gw: treeCpuMs(gateway.pid), pg: treeCpuMs(pgPid), redis: cpuMs(redisPid) };
    const afterSplit = cpuSplitMs(gateway.pid);
    const afterThreads = threadCpuMs(gateway.pid);
    await settle();
    if (stopProfile) await stopProfile(join(profileDir!, `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`));
    const xactsAfter = await xacts();
    if (PG_STATEMENTS) printStatements(name, await readStatements(pgAdmin), result.ok);
    const cmds = await commandStats(redis);
    let redisCalls = 0;
    for (const [cmd, n] of cmds)
      if (cmd !== 'info' && cmd !== 'scan' && cmd !== 'memory') redisCalls += n - (before.cmds.get(cmd) ?? 0);
    return {
      ...result,
      gatewayCpuMs: (after.gw - before.gw) / result.ok,
      gatewaySystemMs: (afterSplit.system - beforeSplit.system) / result.ok,
      gatewayThreadsMs: Object.fromEntries(
        Object.entries(afterThreads).map(([group, ms]) => [
          group,
          (ms - beforeThreads[group as keyof typeof beforeThreads]) / result.ok,
        ]),
      ) as PhaseResult['gatewayThreadsMs'],
      pgCpuMs: (after.pg - before.pg) / result.ok,
      redisCpuMs: (after.redis - before.redis) / result.ok,
      redisCallsServer: redisCalls / result.ok,
      pgXacts: (xactsAfter - before.xacts - 1) / result.ok, // minus the reading query's own transaction
      logBytes: logged.length / result.ok,
      logLines: logLines / result.ok,
      logByMessage,
      probe: await gateway.probe(),
    };
  };

  const full: PhaseResult[] = [];
  const sso: PhaseResult[] = [];
  const silent: PhaseResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const browsers: PersonBrowser[] = [];
    full.push(
      await measure(`full login, round ${round}`, async () => void browsers.push(await rp.fullLogin()), LOGINS),
    );
    printPhase(full.at(-1)!);
    let next = 0;
    sso.push(
      await measure(`SSO login, round ${round}`, () => rp.ssoLogin(browsers[next++ % browsers.length]!), LOGINS),
    );
    printPhase(sso.at(-1)!);
    silent.push(
      await measure(
        `SSO prompt=none, round ${round}`,
        () => rp.ssoLogin(browsers[next++ % browsers.length]!, true),
        LOGINS,
      ),
    );
    printPhase(silent.at(-1)!);
  }
  printSpread('full login', full);
  printSpread('SSO login', sso);
  printSpread('SSO prompt=none', silent);

  if (PACED) {
    // latency at half the maximum throughput: an open-loop phase at half the median full-login rate above
    const rates = full.map((r) => r.ok / r.seconds).sort((a, b) => a - b);
    const half = rates[Math.floor(rates.length / 2)]! / 2;
    const paced = await measure(
      `full login, paced at ${half.toFixed(1)}/s (half the maximum)`,
      async () => void (await rp.fullLogin()),
      LOGINS,
      CONCURRENCY,
      half,
    );
    printPhase(paced);
  }

  const serial: PhaseResult[] = [];
  const serialBrowsers: PersonBrowser[] = [];
  const few = Math.max(10, Math.round(LOGINS / 4));
  serial.push(
    await measure('full login, concurrency 1', async () => void serialBrowsers.push(await rp.fullLogin()), few, 1),
  );
  let k = 0;
  serial.push(await measure('SSO login, concurrency 1', () => rp.ssoLogin(serialBrowsers[k++]!), few, 1));
  let m = 0;
  serial.push(await measure('SSO prompt=none, concurrency 1', () => rp.ssoLogin(serialBrowsers[m++]!, true), few, 1));
  for (const r of serial) {
    printPhase(r);
    printRoutes(r);
  }

  // the tables by statement, command and key: the probe in detail, in phases of their own (CPU not reported)
  const detail = Number(process.env.BENCH_DETAIL_LOGINS ?? 10);
  const detailBrowsers: PersonBrowser[] = [];
  let d = 0;
  let e = 0;
  const detailed = [
    await measure(
      'full login, counted in detail',
      async () => void detailBrowsers.push(await rp.fullLogin()),
      detail,
      1,
      undefined,
      'detail',
    ),
    await measure(
      'SSO login, counted in detail',
      () => rp.ssoLogin(detailBrowsers[d++]!),
      detail,
      1,
      undefined,
      'detail',
    ),
    await measure(
      'SSO prompt=none, counted in detail',
      () => rp.ssoLogin(detailBrowsers[e++]!, true),
      detail,
      1,
      undefined,
      'detail',
    ),
  ];
  for (const r of detailed) printPhase(r);

  const signatures = Object.fromEntries(
    Object.entries(full.at(-1)!.probe.hsmSignatures).map(([k, n]) => [k, n / full.at(-1)!.ok]),
  );
  const floor = await cryptoFloor(token, signatures, QUICK ? 20 : 100);
  console.log(
    `crypto floor (HSM signatures per full login × CPU per signature through hsm/ Signer, same token and keys, this run):`,
  );
  for (const r of floor.rows)
    console.log(`  ${r.key.padEnd(26)} ${r.perLogin.toFixed(2)} × ${r.cpuMsPerSignature.toFixed(2)} ms`);
  console.log(`  = ${floor.totalMs.toFixed(2)} ms per full login`);

  const inflight = QUICK ? 20 : 100;
  const s0 = await keySnapshot(redis, prefix);
  await Promise.all(Array.from({ length: inflight }, () => rp.startOnly()));
  const s1 = await keySnapshot(redis, prefix);
  for (let i = 0; i < inflight; i++) await rp.fullLogin();
  const s2 = await keySnapshot(redis, prefix);
  const pending = bytesPer(s0, s1, inflight);
  const done = bytesPer(s1, s2, inflight);
  console.log(
    `memory: gateway RSS at rest ${rssAtRest.toFixed(0)} MiB, under load max ${Math.max(...full.map((r) => r.rssMaxMiB), ...sso.map((r) => r.rssMaxMiB), ...silent.map((r) => r.rssMaxMiB)).toFixed(0)} MiB`,
  );
  console.log(
    `  Redis per in-flight login (stopped at the AuthnRequest; ${inflight}): MEMORY USAGE of new keys ${pending.added.toFixed(0)} B (${pending.freed.toFixed(0)} B freed meanwhile), used_memory Δ ${pending.usedMemory.toFixed(0)} B`,
  );
  for (const [shape, keys, bytes] of pending.byShape)
    console.log(`    ${shape.padEnd(44)} ${keys.toFixed(2)} keys ${bytes.toFixed(0)} B`);
  console.log(
    `  Redis per completed login (live session + grant + what stays; ${inflight}): MEMORY USAGE of new keys ${done.added.toFixed(0)} B (${done.freed.toFixed(0)} B freed meanwhile), used_memory Δ ${done.usedMemory.toFixed(0)} B`,
  );
  for (const [shape, keys, bytes] of done.byShape)
    console.log(`    ${shape.padEnd(44)} ${keys.toFixed(2)} keys ${bytes.toFixed(0)} B`);
  const memoryAfter = await gateway.memoryAfterGc();
  console.log(
    `  after a full GC, MiB: at rest after warm-up rss ${memoryAtRest.rss} heapUsed ${memoryAtRest.heapUsed} heapTotal ${memoryAtRest.heapTotal} external ${memoryAtRest.external}; after every phase rss ${memoryAfter.rss} heapUsed ${memoryAfter.heapUsed} heapTotal ${memoryAfter.heapTotal} external ${memoryAfter.external}`,
  );
  const failures = [...full, ...sso, ...silent, ...serial, ...detailed].reduce((n, r) => n + r.failures, 0);
  if (failures > 0) process.exitCode = 1;
} finally {
  await gateway.stop();
  redis.disconnect();
  await pgAdmin.end();
  await deployment.stop();
}
