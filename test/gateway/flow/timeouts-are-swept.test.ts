import test from 'ava';
import { SWEEPER_COMPONENT } from '../../../gateway/flow/login-flow.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { STATES, type LoginState } from '../../../gateway/flow/states.ts';
import { eventually } from '../../helpers/eventually.ts';
import { flowStack, loginIn, newLoginId } from './fixtures.ts';

const EXPECTED: Array<[LoginState, LoginState]> = [
  ['INITIATED', 'FAILED'],
  ['AUTHENTICATING', 'FAILED'],
  ['FRAUD_CHECK', 'FAILED'],
  ['TOKEN_GENERATION', 'FAILED'],
  ['FLAGGED', 'DENIED'],
  ['MANUAL_REVIEW', 'DENIED'],
];

for (const [state, outcome] of EXPECTED) {
  test(`a login whose ${state} deadline passed is swept to ${outcome} with FLOW_TIMEOUT, audited once`, async (t) => {
    const stack = await flowStack();
    t.teardown(() => stack.close());
    const loginId = newLoginId('sweep');
    await loginIn(stack.flow, loginId, state);
    const deadline = (await stack.flow.get(loginId))!.deadline!;
    t.is(deadline, stack.clock.now + STATES[state].timeoutSeconds! * 1000);

    stack.clock.now = deadline - 1;
    t.is(await stack.flow.sweepExpired(), 0);
    t.is((await stack.flow.get(loginId))!.state, state);

    stack.clock.now = deadline;
    t.is(await stack.flow.sweepExpired(), 1);
    t.like(await stack.flow.get(loginId), { state: outcome, errorCode: 'FLOW_TIMEOUT', deadline: null });
    t.like((await stack.audit.forSession(loginId)).at(-1), {
      from: state,
      to: outcome,
      component: SWEEPER_COMPONENT,
      errorCode: 'FLOW_TIMEOUT',
    });
    t.is(await stack.flow.sweepExpired(), 0);
  });
}

test('logins in terminal states are never swept', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'done', 'COMPLETED');
  stack.clock.now += 24 * 3600_000;
  t.is(await stack.flow.sweepExpired(), 0);
  t.is((await stack.flow.get('done'))!.state, 'COMPLETED');
});

test('several instances sweeping at once time out each login exactly once', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const ids = Array.from({ length: 40 }, (_, i) => `swept-${i}`);
  for (const id of ids) await stack.flow.start(id, { clientId: 'rp' });
  stack.clock.now += 300_000;
  const instances = [stack.flow, stack.instance(), stack.instance(), stack.instance()];
  const moved = await Promise.all(instances.map((flow) => flow.sweepExpired()));
  t.is(
    moved.reduce((a, b) => a + b, 0),
    ids.length,
  );
  for (const id of ids) {
    const timeouts = (await stack.audit.forSession(id)).filter((record) => record.errorCode === 'FLOW_TIMEOUT');
    t.is(timeouts.length, 1, id);
    t.is((await stack.flow.get(id))!.state, 'FAILED');
  }
});

test('the background sweeper moves overdue logins and stops cleanly', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('bg', { clientId: 'rp' });
  stack.clock.now += 300_000;
  stack.flow.startSweeper(20);
  const swept = await eventually(async () => (await stack.flow.get('bg'))!.state === 'FAILED');
  await stack.flow.stopSweeper();
  t.true(swept, 'the background sweeper moved the overdue login');
  t.is((await stack.flow.get('bg'))!.state, 'FAILED');
});

test('a login whose Redis record vanished before any sweep is still audited as timed out, once', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('gone', { clientId: 'rp' });
  await stack.redis().del(recordKey('gone'));
  stack.clock.now += 300_000;
  t.is(await stack.flow.sweepExpired(), 1);
  t.is(await stack.flow.sweepExpired(), 0);
  const trail = await stack.audit.forSession('gone');
  t.like(trail.at(-1), { from: null, to: 'FAILED', errorCode: 'FLOW_TIMEOUT', details: { recordLost: true } });
  t.is(trail.length, 2);
});

test('one login with an unknown state in Redis is reported and does not stop the sweep of the others', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('poisoned', { clientId: 'rp' });
  await stack.flow.start('healthy', { clientId: 'rp' });
  await stack.redis().hset(recordKey('poisoned'), 'state', 'HACKED');
  stack.clock.now += 300_000;
  await t.throwsAsync(stack.flow.sweepExpired(), { code: 'FLOW_UNKNOWN_STATE' } as never);
  t.is((await stack.flow.get('healthy'))!.state, 'FAILED');
});
