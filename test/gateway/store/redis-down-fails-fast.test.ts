/**
 * With Redis really stopped (killed, or frozen with SIGSTOP: sockets open, no answer), every caller's
 * command fails with FLOW_STORE_UNAVAILABLE instead of waiting in ioredis's offline queue or on a socket
 * that never answers; when Redis is back, the same client works again without a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { redisAdapterFactory } from '../../../gateway/oidc/redis-adapter.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { waitFor } from '../../harness/services/free-port.ts';
import { startRedis, startRedisOnFreePort } from '../../harness/services/redis.ts';

const unavailable = { code: 'FLOW_STORE_UNAVAILABLE' } as never;

test('a killed Redis: commands and transactions fail with FLOW_STORE_UNAVAILABLE (the OIDC adapter as temporarily_unavailable), then recover', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-down-'));
  let server = await startRedisOnFreePort(join(dir, 'a'));
  const port = server.port;
  const redis = createRedis({ url: server.url, keyPrefix: 'down:', commandTimeoutMs: 1_000 });
  t.teardown(async () => {
    redis.disconnect();
    await server.stop();
  });
  await redis.set('k', 'v');
  await server.kill();
  await waitFor(async () => redis.status !== 'ready', 'client notices the dead server');

  await t.throwsAsync(redis.get('k'), unavailable);
  await t.throwsAsync(redis.multi().set('a', '1').expire('a', 10).exec(), unavailable);
  const Session = redisAdapterFactory(redis);
  // oidc-provider's adapter sheds it as the provider's own 503 `temporarily_unavailable`, carrying the code
  // (gateway/oidc/shed-unavailable.ts), so that /auth answers the RP instead of a server_error page
  const shed = await t.throwsAsync(new Session('Interaction').find('some-id'));
  t.like(shed as unknown as Record<string, unknown>, {
    error: 'temporarily_unavailable',
    error_detail: 'FLOW_STORE_UNAVAILABLE',
    status: 503,
  });

  server = await startRedis(join(dir, 'b'), port);
  await waitFor(async () => (await redis.ping().catch(() => '')) === 'PONG', 'client reconnects', 20_000);
  t.is(await redis.set('k', 'w'), 'OK');
});

test('a frozen Redis (SIGSTOP): a command already sent ends with FLOW_STORE_UNAVAILABLE, not a hang', async (t) => {
  t.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-frozen-'));
  const server = await startRedisOnFreePort(dir);
  const redis = createRedis({ url: server.url, keyPrefix: 'frozen:', commandTimeoutMs: 1_000 });
  t.teardown(async () => {
    redis.disconnect();
    await server.stop();
  });
  await redis.set('k', 'v');
  server.pause();
  await t.throwsAsync(redis.get('k'), unavailable);
  await t.throwsAsync(redis.eval("return redis.call('GET', KEYS[1])", 1, 'k'), unavailable);
  server.resume();
  await waitFor(async () => (await redis.get('k').catch(() => null)) === 'v', 'answers again once thawed', 20_000);
  t.pass();
});
