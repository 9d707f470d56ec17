import test from 'ava';
import { GRACE_SECONDS, TERMINAL_TTL_SECONDS } from '../../../gateway/flow/apply-transition.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { STATES } from '../../../gateway/flow/states.ts';
import { flowStack, legalEdges, loginIn, newLoginId } from './fixtures.ts';

test('start writes one audit record null → INITIATED and a record with the INITIATED deadline', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const login = await stack.flow.start('login-start', { clientId: 'rp-1', requestId: 'req-1', acrValues: ['eidas2'] });
  t.like(login, {
    loginId: 'login-start',
    state: 'INITIATED',
    clientId: 'rp-1',
    requestId: 'req-1',
    acrValues: ['eidas2'],
    version: 1,
    errorCode: null,
  });
  t.is(login.deadline, stack.clock.now + 300_000);
  t.deepEqual(await stack.flow.get('login-start'), login);
  const trail = await stack.audit.forSession('login-start');
  t.is(trail.length, 1);
  t.like(trail[0], {
    sessionId: 'login-start',
    from: null,
    to: 'INITIATED',
    requestId: 'req-1',
    errorCode: null,
    details: { clientId: 'rp-1', acrValues: ['eidas2'] },
  });
});

for (const [from, to] of legalEdges()) {
  test(`${from} → ${to} writes exactly one audit record with its fields and moves the state`, async (t) => {
    const stack = await flowStack();
    t.teardown(() => stack.close());
    const loginId = newLoginId('legal');
    await loginIn(stack.flow, loginId, from);
    const before = await stack.audit.forSession(loginId);
    const previous = await stack.flow.get(loginId);
    stack.clock.now += 1_000;
    const meta = {
      component: 'test-component',
      errorCode: to === 'FAILED' ? ('RISK_TOO_HIGH' as const) : undefined,
      requestId: 'req-x',
      details: { why: 'test' },
    };
    const record = await stack.flow.transition(loginId, to, meta);

    const after = await stack.audit.forSession(loginId);
    t.is(after.length, before.length + 1);
    t.like(after.at(-1), {
      sessionId: loginId,
      from,
      to,
      component: 'test-component',
      errorCode: meta.errorCode ?? null,
      requestId: 'req-x',
      details: { why: 'test' },
    });
    const timeout = STATES[to].timeoutSeconds;
    t.like(record, {
      state: to,
      enteredAt: stack.clock.now,
      version: previous!.version + 1,
      errorCode: meta.errorCode ?? null,
    });
    t.is(record.deadline, timeout === null ? null : stack.clock.now + timeout * 1000);
    t.deepEqual(await stack.flow.get(loginId), record);
  });
}

test('a record lives in Redis for its state timeout plus grace, and a terminal one for the retention period', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const redis = stack.redis();
  const loginId = newLoginId('ttl');
  await loginIn(stack.flow, loginId, 'FRAUD_CHECK');
  const live = await redis.ttl(recordKey(loginId));
  t.true(live > 30 && live <= 30 + GRACE_SECONDS, String(live));
  await stack.flow.transition(loginId, 'FAILED', { component: 'test' });
  const terminal = await redis.ttl(recordKey(loginId));
  t.true(terminal > TERMINAL_TTL_SECONDS - 60 && terminal <= TERMINAL_TTL_SECONDS, String(terminal));
});
