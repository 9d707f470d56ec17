/**
 * `freePort()` answers a port that is free now, not reserved: another test's server (or an outgoing
 * connection) may take it before the server we start binds it. The launchers then say so at once
 * (`PortInUseError`), never wait out their 30 s readiness deadline, never take another Redis's PONG for
 * their own server's, and the `…OnFreePort` launchers (what the harness and the beds use) choose again; so does
 * an in-process gateway (`startGatewayFixture` then starts again on other ports).
 * Under the harness, `freePort()` hands a port out once per run, so test files asking at once never share one.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { prepareDeployment, startGatewayInProcess } from './deployment.ts';
import { freePort } from './services/free-port.ts';
import { startPostgres } from './services/postgres.ts';
import { serverPid, startRedis, startRedisOnFreePort } from './services/redis.ts';

const inUse = { name: 'PortInUseError' };

async function listener(): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

test('a Redis started on a port another Redis holds fails at once; it does not answer with the other server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-port-'));
  const holder = await startRedisOnFreePort(join(dir, 'holder'));
  t.teardown(() => holder.stop());
  const started = Date.now();
  const error = await t.throwsAsync(async () => {
    const wrong = await startRedis(join(dir, 'late'), holder.port);
    await wrong.stop();
  }, inUse);
  t.regex(error?.message ?? '', new RegExp(`port ${holder.port}`));
  t.true(Date.now() - started < 20_000, 'said at once, not at the readiness deadline');
});

test('a Redis started on a port any process holds fails at once with PortInUseError', async (t) => {
  const taken = await listener();
  t.teardown(() => taken.close());
  await t.throwsAsync(startRedis(mkdtempSync(join(tmpdir(), 'gw-port-')), portOf(taken)), inUse);
});

test('a PostgreSQL started on a taken port fails with PortInUseError', async (t) => {
  const taken = await listener();
  t.teardown(() => taken.close());
  const dir = mkdtempSync(join(tmpdir(), 'gw-port-pg-'));
  await t.throwsAsync(startPostgres(dir, portOf(taken)), inUse);
});

test('under the harness a port is handed out once per run, even when the kernel offers it again', async (t) => {
  // ports above the kernel's ephemeral range: nothing else in this run is handed them
  const twice = 61_001 + 2 * Math.floor(Math.random() * 2_000);
  const offers = [twice, twice, twice + 1];
  const kernel = async () => offers.shift()!;
  t.is(await freePort(kernel), twice);
  t.is(await freePort(kernel), twice + 1, 'not the port another caller of this run was given');
});

test('a Redis on a free port answers as its own process', async (t) => {
  const redis = await startRedisOnFreePort(mkdtempSync(join(tmpdir(), 'gw-port-')));
  t.teardown(() => redis.stop());
  t.not(await serverPid(redis.port), null);
  t.is(await serverPid(await freePort()), null, 'nobody answers on a free port');
});

test('a gateway started in process on a taken port fails with PortInUseError, not an uncaught EADDRINUSE', async (t) => {
  const taken = await listener();
  t.teardown(() => taken.close());
  const dir = mkdtempSync(join(tmpdir(), 'gw-port-gw-'));
  const deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    gatewayPort: portOf(taken),
    logLevel: 'silent',
  });
  t.teardown(() => deployment.stop());
  const error = await t.throwsAsync(startGatewayInProcess(deployment), inUse);
  t.regex(error?.message ?? '', new RegExp(`port ${portOf(taken)}`));
});
