/**
 * Issue #14 (Redis round trips): a caller that refused with its own code after reading the login first
 * (`interaction/start-upstream.ts`: LOGIN_STATE_INVALID unless the login is INITIATED, AUTHENTICATING or
 * FRAUD_CHECK — the state table's sources of AUTHENTICATING) hands its refusal to the transition instead:
 * the claim checks the state, no read before it. Its error replaces FLOW_NOT_FOUND and an illegal source
 * only; an unknown state value stays FLOW_UNKNOWN_STATE, a transition in progress FLOW_ILLEGAL_TRANSITION,
 * and nothing is written on any refusal.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { GatewayError } from '../../../gateway/errors.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import type { LoginState } from '../../../gateway/flow/states.ts';
import { flowStack, loginIn, newLoginId } from './fixtures.ts';

let sent: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  sent?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};

const meta = {
  component: 'test',
  refuse: (state: LoginState | null) =>
    new GatewayError('LOGIN_STATE_INVALID', 400, 'cannot start upstream now', { detail: String(state) }),
};

test.serial('the caller’s refusal for a login in another state or none, and nothing written', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  for (const from of ['TOKEN_GENERATION', 'COMPLETED', 'FAILED', 'MANUAL_REVIEW'] as const) {
    const loginId = newLoginId('refuse');
    await loginIn(stack.flow, loginId, from);
    const trail = await stack.audit.forSession(loginId);
    const record = await stack.flow.get(loginId);
    const error = await t.throwsAsync(stack.flow.transition(loginId, 'AUTHENTICATING', meta));
    t.like(error, { code: 'LOGIN_STATE_INVALID', status: 400 }, from);
    t.deepEqual(await stack.audit.forSession(loginId), trail, from);
    t.deepEqual(await stack.flow.get(loginId), record, from);
  }
  await t.throwsAsync(stack.flow.transition('never-started', 'AUTHENTICATING', meta), {
    code: 'LOGIN_STATE_INVALID',
  } as never);
});

test.serial('a legal source goes through in two commands; other refusals keep their codes', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const ok = newLoginId('refuse-ok');
  await loginIn(stack.flow, ok, 'FRAUD_CHECK');
  sent = [];
  t.like(await stack.flow.transition(ok, 'AUTHENTICATING', meta), { state: 'AUTHENTICATING' });
  t.deepEqual(sent, ['evalsha', 'evalsha']);
  sent = undefined;

  const odd = newLoginId('refuse-odd');
  await loginIn(stack.flow, odd, 'INITIATED');
  await stack.redis().hset(recordKey(odd), 'state', 'SOMETHING_ELSE');
  await t.throwsAsync(stack.flow.transition(odd, 'AUTHENTICATING', meta), { code: 'FLOW_UNKNOWN_STATE' } as never);

  const busy = newLoginId('refuse-busy');
  await loginIn(stack.flow, busy, 'INITIATED');
  await stack.redis().hset(recordKey(busy), 'pending', 'someone-else', 'pendingAt', String(stack.clock.now));
  await t.throwsAsync(stack.flow.transition(busy, 'AUTHENTICATING', meta), {
    code: 'FLOW_ILLEGAL_TRANSITION',
  } as never);
});

test.serial('a claim narrowed to some of the table’s sources refuses the others with the caller’s code', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const deciding = newLoginId('narrow-refused');
  await loginIn(stack.flow, deciding, 'FRAUD_CHECK'); // a source of AUTHENTICATING in the table, not for a chosen IdP
  const record = await stack.flow.get(deciding);
  const narrowed = { refuse: meta.refuse, from: ['INITIATED', 'AUTHENTICATING'] as const };
  await t.throwsAsync(stack.flow.claim(deciding, 'AUTHENTICATING', narrowed), {
    code: 'LOGIN_STATE_INVALID',
  } as never);
  t.deepEqual(await stack.flow.get(deciding), record, 'nothing claimed');
  // a state outside the table's sources stays refused even when the caller names it
  const done = newLoginId('narrow-done');
  await loginIn(stack.flow, done, 'COMPLETED');
  await t.throwsAsync(stack.flow.claim(done, 'AUTHENTICATING', { refuse: meta.refuse, from: ['COMPLETED'] }), {
    code: 'LOGIN_STATE_INVALID',
  } as never);
  const chosen = newLoginId('narrow-ok');
  await loginIn(stack.flow, chosen, 'INITIATED');
  const held = await stack.flow.claim(chosen, 'AUTHENTICATING', narrowed);
  t.like(await stack.flow.transition(chosen, 'AUTHENTICATING', { component: 'test', held }), {
    state: 'AUTHENTICATING',
  });
});
