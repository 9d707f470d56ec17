import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { LoginFlow } from '../../../gateway/flow/login-flow.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { closedPort, migratedPool } from '../store/fixtures.ts';

test('with Redis unreachable, start and transition throw FLOW_STORE_UNAVAILABLE and no audit record is written', async (t) => {
  const pool = await migratedPool();
  const redis = createRedis({ url: `redis://127.0.0.1:${await closedPort()}`, keyPrefix: 'down:' });
  redis.on('error', () => undefined);
  t.teardown(async () => {
    redis.disconnect();
    await pool.end();
  });
  const audit = new AuditLog(pool);
  const flow = new LoginFlow({ redis, audit });
  await t.throwsAsync(flow.start('l1', { clientId: 'rp' }), { code: 'FLOW_STORE_UNAVAILABLE' } as never);
  await t.throwsAsync(flow.transition('l1', 'AUTHENTICATING', { component: 'interaction' }), {
    code: 'FLOW_STORE_UNAVAILABLE',
  } as never);
  await t.throwsAsync(flow.sweepExpired(), { code: 'FLOW_STORE_UNAVAILABLE' } as never);
  t.deepEqual(await audit.forSession('l1'), []);
});
