/**
 * Redis over TLS with the operator's trust (`redis.tls`, config/redis-tls.ts): a real Redis with a `tls-port` and a
 * certificate of a test CA. With `rediss://` and `caFile` a whole login runs over TLS (its keys land in that
 * server); without `caFile`, or with a `servername` the certificate does not name, the gateway does not boot. A
 * server that asks for client certificates (`tls-auth-clients yes`) is reached with `certFile` + `keyFile`, and
 * refuses a gateway without them. A certificate naming only a DNS name is checked against `servername` (the
 * address it is reached at is not in it). Under Sentinel (one primary, one replica, three sentinels, all over TLS) and on a
 * Cluster of three primaries (TLS on the cluster bus too) a whole login runs as well.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { startRedisCluster } from '../harness/services/redis-cluster.ts';
import { startRedisSentinel } from '../harness/services/redis-sentinel.ts';
import { startRedisWithTls, type TlsRedisHandle } from '../harness/services/redis-tls.ts';
import { discoverRp, logInAndRedeem, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { makeClientCertificate, makeDnsServerCertificate, makePki } from '../helpers/https-document-server.ts';
import { freshDatabase, freshToken, redisPrefix } from '../helpers/services.ts';

const pkiDir = mkdtempSync(join(tmpdir(), 'gw-redis-tls-pki-'));
const pki = makePki(pkiDir);
const serverFiles = { certFile: join(pkiDir, 'server.pem'), keyFile: join(pkiDir, 'server.key'), caFile: pki.caFile };
const client = makeClientCertificate(pkiDir);
// every gateway's SoftHSM2 token made before any is opened: a token made once this process has the module open is
// not seen by it (HSM_TOKEN_NOT_FOUND)
const tokens = Array.from({ length: 10 }, () => freshToken());

async function tlsRedis(t: ExecutionContext, clientCertificates: boolean): Promise<TlsRedisHandle> {
  const redis = await startRedisWithTls(mkdtempSync(join(tmpdir(), 'gw-redis-tls-')), serverFiles, {
    clientCertificates,
  });
  t.teardown(() => redis.stop());
  return redis;
}

/** A gateway on `redis` over TLS with `tls` as its `redis.tls` (or `topology` for its `redis`); its key prefix. */
async function gatewayOn(
  t: ExecutionContext,
  redis: Pick<TlsRedisHandle, 'tlsUrl'>,
  tls: Record<string, string>,
  topology?: Record<string, unknown>,
) {
  const prefix = redisPrefix();
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-redis-tls-gw-')),
    pgUrl: await freshDatabase(),
    redisUrl: redis.tlsUrl,
    redisKeyPrefix: prefix,
    token: tokens.shift()!,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  t.teardown(() => deployment.stop());
  deployment.rawConfig.redis = topology
    ? { ...topology, keyPrefix: prefix, tls, commandTimeoutMs: 3_000 }
    : { ...(deployment.rawConfig.redis as object), tls, commandTimeoutMs: 3_000 };
  const running = await startGatewayInProcess(deployment);
  t.teardown(() => running.stop());
  return { running, deployment, prefix };
}

async function logsIn(t: ExecutionContext, gateway: Awaited<ReturnType<typeof gatewayOn>>): Promise<void> {
  const tokens = await logInAndRedeem(await discoverRp(gateway.running.url, gateway.deployment));
  t.truthy(tokens.access_token);
}

test.serial('a whole login on Redis over TLS, trusting the CA given; its state lands in that server', async (t) => {
  const redis = await tlsRedis(t, false);
  const gateway = await gatewayOn(t, redis, { caFile: serverFiles.caFile });
  await logsIn(t, gateway);
  // the same server, looked into through its plain port: the gateway's keys are there
  const look = new Redis(redis.port, '127.0.0.1');
  t.teardown(() => look.disconnect());
  t.true((await look.keys(`${gateway.prefix}*`)).length > 0);
});

test.serial("without the CA the gateway does not trust the server's certificate and does not boot", async (t) => {
  const redis = await tlsRedis(t, false);
  await t.throwsAsync(gatewayOn(t, redis, {}), { message: /^Redis did not answer at boot: .*certificate/i });
  // nor when the certificate must name another server than it does (`servername`)
  await t.throwsAsync(gatewayOn(t, redis, { caFile: serverFiles.caFile, servername: 'redis.elsewhere.example' }), {
    message: /^Redis did not answer at boot: .*(altnames|redis\.elsewhere\.example)/i,
  });
});

test.serial(
  'a certificate naming only a DNS name: refused at the address, a whole login with that servername',
  async (t) => {
    const named = makeDnsServerCertificate(pkiDir, 'redis.internal.test');
    const redis = await startRedisWithTls(
      mkdtempSync(join(tmpdir(), 'gw-redis-tls-dns-')),
      { ...named, caFile: pki.caFile },
      { clientCertificates: false },
    );
    t.teardown(() => redis.stop());
    await t.throwsAsync(gatewayOn(t, redis, { caFile: pki.caFile }), {
      message: /^Redis did not answer at boot: .*(altnames|127\.0\.0\.1)/i,
    });
    await logsIn(t, await gatewayOn(t, redis, { caFile: pki.caFile, servername: 'redis.internal.test' }));
  },
);

test.serial('a Redis that asks for client certificates: refused without one, a whole login with one', async (t) => {
  const redis = await tlsRedis(t, true);
  await t.throwsAsync(
    gatewayOn(t, redis, { caFile: serverFiles.caFile }),
    { message: /^Redis did not answer at boot/ },
    'no client certificate',
  );
  const gateway = await gatewayOn(t, redis, { caFile: serverFiles.caFile, ...client });
  await logsIn(t, gateway);
});

test.serial('a whole login on Redis under Sentinel over TLS: the sentinels and the primary they name', async (t) => {
  const sentinel = await startRedisSentinel(mkdtempSync(join(tmpdir(), 'gw-sentinel-tls-')), 'gw', serverFiles);
  t.teardown(() => sentinel.stop());
  // a server only for its TLS URL's place in the deployment's environment: the topology below replaces it
  const unused = await tlsRedis(t, false);
  const gateway = await gatewayOn(
    t,
    unused,
    { caFile: serverFiles.caFile },
    {
      sentinels: sentinel.tlsAddresses,
      name: sentinel.name,
    },
  );
  await logsIn(t, gateway);
  const look = new Redis(sentinel.primary.port, '127.0.0.1');
  t.teardown(() => look.disconnect());
  t.true((await look.keys(`${gateway.prefix}*`)).length > 0, "the login's state is on the primary");
});

test.serial('a whole login on a Redis Cluster over TLS: every node, and the cluster bus', async (t) => {
  const cluster = await startRedisCluster(mkdtempSync(join(tmpdir(), 'gw-cluster-tls-')), {
    ...serverFiles,
    clientCertFile: client.certFile,
    clientKeyFile: client.keyFile,
  });
  t.teardown(() => cluster.stop());
  const gateway = await gatewayOn(
    t,
    { tlsUrl: 'rediss://127.0.0.1:1' },
    { caFile: serverFiles.caFile },
    {
      cluster: cluster.nodes.map((n) => `${n.host}:${n.port}`),
    },
  );
  await logsIn(t, gateway);
  const perNode = await Promise.all(
    cluster.servers.map(async (server) => {
      const look = new Redis(server.port, '127.0.0.1');
      try {
        return (await look.keys(`${gateway.prefix}*`)).length;
      } finally {
        look.disconnect();
      }
    }),
  );
  t.true(perNode.filter((n) => n > 0).length >= 2, `the state is spread over the nodes: ${perNode.join('/')}`);
});
