import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { unreachablePool } from '../store/fixtures.ts';
import { flowStack, loginIn } from './fixtures.ts';

test('with PostgreSQL unreachable a transition throws AUDIT_UNAVAILABLE and the Redis state is unchanged', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  await loginIn(stack.flow, 'l1', 'AUTHENTICATING');
  const before = await stack.flow.get('l1');
  const cutOff = stack.instance(new AuditLog(deadPool));

  await t.throwsAsync(cutOff.transition('l1', 'FRAUD_CHECK', { component: 'interaction' }), {
    code: 'AUDIT_UNAVAILABLE',
  } as never);
  t.deepEqual(await stack.flow.get('l1'), before);
  // The claim was released: the next transition (PostgreSQL back) goes through at once.
  t.is((await stack.flow.transition('l1', 'FRAUD_CHECK', { component: 'interaction' })).state, 'FRAUD_CHECK');
  t.deepEqual(
    (await stack.audit.forSession('l1')).map((record) => record.to),
    ['INITIATED', 'AUTHENTICATING', 'FRAUD_CHECK'],
  );
});

test('with PostgreSQL unreachable a login cannot start, and leaves nothing behind', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  const cutOff = stack.instance(new AuditLog(deadPool));
  await t.throwsAsync(cutOff.start('l2', { clientId: 'rp' }), { code: 'AUDIT_UNAVAILABLE' } as never);
  t.is(await stack.flow.get('l2'), null);
  t.is((await stack.flow.start('l2', { clientId: 'rp' })).state, 'INITIATED');
});

test('with PostgreSQL unreachable the sweeper leaves overdue logins for a later round', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  await stack.flow.start('l3', { clientId: 'rp' });
  stack.clock.now += 300_000;
  await t.throwsAsync(stack.instance(new AuditLog(deadPool)).sweepExpired(), { code: 'AUDIT_UNAVAILABLE' } as never);
  t.is((await stack.flow.get('l3'))!.state, 'INITIATED');
  t.is(await stack.flow.sweepExpired(), 1);
  t.like(await stack.flow.get('l3'), { state: 'FAILED', errorCode: 'FLOW_TIMEOUT' });
});
