/**
 * Issue #14: a login started and moved on at once (an SSO login: INITIATED, then FRAUD_CHECK) costs 3 Redis
 * calls, not 4: the start's commit also claims the login for the next transition (`LoginFlow.startThen`). Each
 * transition still writes its audit record before its state changes; a transition tried meanwhile by anyone
 * else is refused before it is audited (the claim was taken with the commit, atomically); if the second audit
 * record cannot be written the login stays INITIATED, unclaimed; a target the state table does not allow from
 * INITIATED writes nothing. Real Redis and PostgreSQL; commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { unreachablePool } from '../store/fixtures.ts';
import { flowStack } from './fixtures.ts';

let commands: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  commands?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};

/** The audit log, its `append` replaced (the rest bound to the real one). */
function auditWith(audit: AuditLog, append: AuditLog['append']): AuditLog {
  return new Proxy(audit, {
    get(target, property) {
      if (property === 'append') return append;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test.serial('a start and the transition that follows it: 3 Redis calls, both audited in order', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.startThen('warm', { clientId: 'rp-1' }, 'FRAUD_CHECK', { component: 'test' }); // scripts loaded
  commands = [];
  const login = await stack.flow.startThen(
    'login-3',
    { clientId: 'rp-1', requestId: 'req-1', acrValues: ['eidas2'], component: 'sso' },
    'FRAUD_CHECK',
    { component: 'sso', requestId: 'req-1', details: { input: 'session' } },
  );
  const sent = commands;
  commands = undefined;
  t.deepEqual(sent, ['evalsha', 'evalsha', 'evalsha']);
  t.like(login, { state: 'FRAUD_CHECK', clientId: 'rp-1', version: 2, acrValues: ['eidas2'] });
  const stored = await stack.flow.get('login-3');
  t.like(stored, { state: 'FRAUD_CHECK', clientId: 'rp-1', version: 2, requestId: 'req-1' });
  t.is(stored!.deadline, login.deadline);
  const trail = await stack.audit.forSession('login-3');
  t.deepEqual(
    trail.map((r) => [r.from, r.to, r.component]),
    [
      [null, 'INITIATED', 'sso'],
      ['INITIATED', 'FRAUD_CHECK', 'sso'],
    ],
  );
  // no claim left behind: the next transition goes through at once
  t.is((await stack.flow.transition('login-3', 'TOKEN_GENERATION', { component: 'policy' })).state, 'TOKEN_GENERATION');
});

test.serial('a transition tried while the second one is being audited is refused, and not audited', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const atSecondAudit = new Promise<void>((resolve) => (reached = resolve));
  let appends = 0;
  const slow = auditWith(stack.audit, async (record) => {
    appends += 1;
    if (appends === 2) {
      reached();
      await gate;
    }
    return stack.audit.append(record);
  });
  const flow = stack.instance(slow);
  const chained = flow.startThen('login-race', { clientId: 'rp-1' }, 'FRAUD_CHECK', { component: 'sso' });
  await atSecondAudit;
  await t.throwsAsync(
    stack.flow.transition('login-race', 'FAILED', { component: 'other', errorCode: 'FLOW_TIMEOUT' }),
    {
      code: 'FLOW_ILLEGAL_TRANSITION',
    } as never,
  );
  release();
  t.is((await chained).state, 'FRAUD_CHECK');
  t.deepEqual(
    (await stack.audit.forSession('login-race')).map((r) => r.to),
    ['INITIATED', 'FRAUD_CHECK'],
    'the refused transition wrote no audit record',
  );
});

test.serial('if the second audit record cannot be written, the login stays INITIATED and unclaimed', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  const dead = new AuditLog(deadPool);
  let appends = 0;
  const flow = stack.instance(
    auditWith(stack.audit, (record) => (++appends === 1 ? stack.audit.append(record) : dead.append(record))),
  );
  await t.throwsAsync(flow.startThen('login-cut', { clientId: 'rp-1' }, 'FRAUD_CHECK', { component: 'sso' }), {
    code: 'AUDIT_UNAVAILABLE',
  } as never);
  t.like(await stack.flow.get('login-cut'), { state: 'INITIATED', version: 1 });
  t.deepEqual(
    (await stack.audit.forSession('login-cut')).map((r) => r.to),
    ['INITIATED'],
  );
  // the claim was released: the transition goes through at once with PostgreSQL back
  t.is((await stack.flow.transition('login-cut', 'FRAUD_CHECK', { component: 'sso' })).state, 'FRAUD_CHECK');
});

test.serial('a target the state table does not allow from INITIATED writes nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await t.throwsAsync(stack.flow.startThen('login-bad', { clientId: 'rp-1' }, 'COMPLETED', { component: 'sso' }), {
    code: 'FLOW_ILLEGAL_TRANSITION',
  } as never);
  t.is(await stack.flow.get('login-bad'), null);
  t.deepEqual(await stack.audit.forSession('login-bad'), []);
});
