import test from 'ava';
import { GatewayError } from '../../../gateway/errors.ts';
import { FlowError } from '../../../gateway/flow/flow-error.ts';
import { LOGIN_STATES, STATES, type LoginState } from '../../../gateway/flow/states.ts';
import { flowStack, loginIn, newLoginId } from './fixtures.ts';

const illegal = LOGIN_STATES.flatMap((from) =>
  LOGIN_STATES.filter((to) => !(STATES[from].next as readonly LoginState[]).includes(to)).map(
    (to): [LoginState, LoginState] => [from, to],
  ),
);

test('every transition the table does not allow throws FLOW_ILLEGAL_TRANSITION and writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  t.true(illegal.length > 40);
  for (const from of LOGIN_STATES) {
    const loginId = newLoginId('illegal');
    await loginIn(stack.flow, loginId, from);
    const trail = await stack.audit.forSession(loginId);
    const record = await stack.flow.get(loginId);
    for (const [, to] of illegal.filter(([source]) => source === from)) {
      await t.throwsAsync(
        stack.flow.transition(loginId, to, { component: 'test' }),
        { code: 'FLOW_ILLEGAL_TRANSITION' } as never,
        `${from} → ${to}`,
      );
    }
    t.deepEqual(await stack.audit.forSession(loginId), trail, from);
    t.deepEqual(await stack.flow.get(loginId), record, from);
  }
});

test('a transition to a state not in the table throws FLOW_UNKNOWN_STATE and writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('l1', { clientId: 'rp' });
  await t.throwsAsync(stack.flow.transition('l1', 'DONE' as LoginState, { component: 'test' }), {
    code: 'FLOW_UNKNOWN_STATE',
  } as never);
  t.is((await stack.audit.forSession('l1')).length, 1);
});

test('a transition of a login that does not exist throws FLOW_NOT_FOUND and writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await t.throwsAsync(stack.flow.transition('nobody', 'AUTHENTICATING', { component: 'test' }), {
    code: 'FLOW_NOT_FOUND',
  } as never);
  t.is(await stack.flow.get('nobody'), null);
  t.deepEqual(await stack.audit.forSession('nobody'), []);
});

test('starting a login id already in use throws FLOW_ILLEGAL_TRANSITION and writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const first = await stack.flow.start('l1', { clientId: 'rp-a' });
  await t.throwsAsync(stack.flow.start('l1', { clientId: 'rp-b' }), { code: 'FLOW_ILLEGAL_TRANSITION' } as never);
  t.deepEqual(await stack.flow.get('l1'), first);
  t.is((await stack.audit.forSession('l1')).length, 1);
});

test('a transition after the state deadline throws FLOW_EXPIRED and writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'l1', 'FRAUD_CHECK');
  const trail = await stack.audit.forSession('l1');
  stack.clock.now += 30_000;
  await t.throwsAsync(stack.flow.transition('l1', 'TOKEN_GENERATION', { component: 'test' }), {
    code: 'FLOW_EXPIRED',
  } as never);
  t.deepEqual(await stack.audit.forSession('l1'), trail);
  t.is((await stack.flow.get('l1'))!.state, 'FRAUD_CHECK');
});

test('flow errors are GatewayErrors the error mapper renders: refusals exposed, store failures not', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'l1', 'COMPLETED');
  const refused = await t.throwsAsync(stack.flow.transition('l1', 'FAILED', { component: 'test' }));
  t.true(refused instanceof GatewayError);
  t.like(refused, { code: 'FLOW_ILLEGAL_TRANSITION', status: 409, expose: true, loginId: 'l1' });
  t.like(new FlowError('FLOW_STORE_UNAVAILABLE', 'x'), { status: 503, expose: false });
});
