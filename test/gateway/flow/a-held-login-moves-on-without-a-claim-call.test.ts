/**
 * Issue #14: TOKEN_GENERATION and COMPLETED follow each other in one request, so the first one's commit also
 * claims the login for the second (`LoginFlow.transitionHolding`, then `transition` with `held`): 3 Redis calls
 * instead of 4, each transition still audited before its state changes. While held, nobody else moves the
 * login (the sweeper included) and nothing else is audited; the held transition still refuses a login whose
 * deadline passed (FLOW_EXPIRED), and a target the state table does not allow (FLOW_ILLEGAL_TRANSITION),
 * giving the claim back in both cases; a request that ends otherwise gives it back with `release`. Writes
 * sent along a commit (`alongCommit`) go in the commit's round trip and are never sent when the audit record
 * could not be written. A claim taken alone (`LoginFlow.claim`, sent with another call's round trip) audits
 * nothing until its transition is applied, and is refused like a transition. Real Redis and PostgreSQL;
 * commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { HELD_CLAIM_USABLE_MS } from '../../../gateway/flow/apply-transition.ts';
import { LoginFlow } from '../../../gateway/flow/login-flow.ts';
import { recordKey } from '../../../gateway/flow/login-record.ts';
import { unreachablePool } from '../store/fixtures.ts';
import { flowStack, loginIn } from './fixtures.ts';

let commands: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  commands?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};

test.serial('TOKEN_GENERATION held for COMPLETED: 3 Redis calls, both audited in order', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'warm', 'FRAUD_CHECK'); // scripts loaded
  const warm = await stack.flow.transitionHolding('warm', 'TOKEN_GENERATION', { component: 'policy' });
  await stack.flow.transition('warm', 'COMPLETED', { component: 'oidc', held: warm });
  await loginIn(stack.flow, 'login-held', 'FRAUD_CHECK');
  commands = [];
  const held = await stack.flow.transitionHolding('login-held', 'TOKEN_GENERATION', { component: 'policy' });
  const done = await stack.flow.transition('login-held', 'COMPLETED', { component: 'oidc', requestId: 'r-9', held });
  const sent = commands;
  commands = undefined;
  t.deepEqual(sent, ['evalsha', 'evalsha', 'evalsha']);
  t.like(done, { state: 'COMPLETED', clientId: 'rp-test', version: held.record.version + 1 });
  t.like(await stack.flow.get('login-held'), { state: 'COMPLETED', version: done.version });
  const trail = await stack.audit.forSession('login-held');
  t.deepEqual(
    trail.slice(-2).map((r) => [r.from, r.to, r.component]),
    [
      ['FRAUD_CHECK', 'TOKEN_GENERATION', 'policy'],
      ['TOKEN_GENERATION', 'COMPLETED', 'oidc'],
    ],
  );
});

test.serial('while held, another transition and the sweeper are refused and audit nothing', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'login-busy', 'FRAUD_CHECK');
  const held = await stack.flow.transitionHolding('login-busy', 'TOKEN_GENERATION', { component: 'policy' });
  const before = (await stack.audit.forSession('login-busy')).length;
  await t.throwsAsync(stack.instance().transition('login-busy', 'FAILED', { component: 'other' }), {
    code: 'FLOW_ILLEGAL_TRANSITION',
  } as never);
  stack.clock.now += 6_000; // past TOKEN_GENERATION's 5 s
  t.is(await stack.instance().sweepExpired(), 0, 'the sweeper leaves a held login to its holder');
  t.is((await stack.audit.forSession('login-busy')).length, before);
  // the holder, now past the deadline, is refused too and gives the claim back: the sweeper then fails it
  await t.throwsAsync(stack.flow.transition('login-busy', 'COMPLETED', { component: 'oidc', held }), {
    code: 'FLOW_EXPIRED',
  } as never);
  t.is(await stack.instance().sweepExpired(), 1);
  t.like(await stack.flow.get('login-busy'), { state: 'FAILED', errorCode: 'FLOW_TIMEOUT' });
  t.deepEqual(
    (await stack.audit.forSession('login-busy')).slice(-2).map((r) => [r.from, r.to, r.errorCode]),
    [
      ['FRAUD_CHECK', 'TOKEN_GENERATION', null],
      ['TOKEN_GENERATION', 'FAILED', 'FLOW_TIMEOUT'],
    ],
  );
});

test.serial('a held claim given back (release) lets the next transition through at once', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'login-back', 'FRAUD_CHECK');
  const held = await stack.flow.transitionHolding('login-back', 'TOKEN_GENERATION', { component: 'policy' });
  await stack.flow.release('login-back', held);
  t.like(await stack.instance().transition('login-back', 'FAILED', { component: 'oidc', errorCode: 'FLOW_TIMEOUT' }), {
    state: 'FAILED',
  });
});

test.serial('a held transition the state table does not allow writes nothing and gives the claim back', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'login-wrong', 'FRAUD_CHECK');
  const held = await stack.flow.transitionHolding('login-wrong', 'TOKEN_GENERATION', { component: 'policy' });
  const before = (await stack.audit.forSession('login-wrong')).length;
  await t.throwsAsync(stack.flow.transition('login-wrong', 'MANUAL_REVIEW', { component: 'review', held }), {
    code: 'FLOW_ILLEGAL_TRANSITION',
  } as never);
  t.is((await stack.audit.forSession('login-wrong')).length, before);
  t.like(await stack.instance().transition('login-wrong', 'COMPLETED', { component: 'oidc' }), { state: 'COMPLETED' });
});

test.serial('if the held transition cannot be audited, the state stays and the claim is given back', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  await loginIn(stack.flow, 'login-cut', 'FRAUD_CHECK');
  const held = await stack.flow.transitionHolding('login-cut', 'TOKEN_GENERATION', { component: 'policy' });
  await t.throwsAsync(
    stack.instance(new AuditLog(deadPool)).transition('login-cut', 'COMPLETED', { component: 'oidc', held }),
    { code: 'AUDIT_UNAVAILABLE' } as never,
  );
  t.like(await stack.flow.get('login-cut'), { state: 'TOKEN_GENERATION' });
  t.like(await stack.flow.transition('login-cut', 'COMPLETED', { component: 'oidc' }), { state: 'COMPLETED' });
});

/** Counts the writes of a client's socket to the kernel: commands written in one turn are one. */
async function countWrites(client: Redis): Promise<{ readonly count: number }> {
  await client.ping();
  const socket = (client as unknown as { stream: Record<string, (...a: unknown[]) => void> }).stream;
  const counter = { count: 0 };
  for (const name of ['_write', '_writev']) {
    const original = socket[name]!.bind(socket);
    socket[name] = (...a: unknown[]) => {
      counter.count += 1;
      original(...a);
    };
  }
  return counter;
}

test.serial('writes along a commit share its round trip, and are not sent when the audit record fails', async (t) => {
  const stack = await flowStack();
  const deadPool = await unreachablePool();
  t.teardown(async () => {
    await deadPool.end();
    await stack.close();
  });
  const redis = stack.redis();
  const flow = new LoginFlow({ redis, audit: stack.audit, now: () => stack.clock.now });
  await flow.start('warm-along', { clientId: 'rp-1' }); // scripts loaded
  const writes = await countWrites(redis);
  await flow.start('login-along', { clientId: 'rp-1' }, { alongCommit: () => redis.set('ctx:login-along', 'x') });
  t.is(writes.count, 2, 'the claim, then the commit with the write along it');
  t.is(await redis.get('ctx:login-along'), 'x');
  t.like(await flow.get('login-along'), { state: 'INITIATED' });

  let sent = 0;
  const unaudited = new LoginFlow({ redis, audit: new AuditLog(deadPool), now: () => stack.clock.now });
  await t.throwsAsync(
    unaudited.start(
      'login-no-audit',
      { clientId: 'rp-1' },
      {
        alongCommit: () => {
          sent += 1;
          return redis.set('ctx:login-no-audit', 'x');
        },
      },
    ),
    { code: 'AUDIT_UNAVAILABLE' } as never,
  );
  t.is(sent, 0);
  t.is(await redis.get('ctx:login-no-audit'), null);
  t.is(await flow.get('login-no-audit'), null);
});

test.serial(
  'a claim alone (LoginFlow.claim) audits nothing; the held transition audits once and commits',
  async (t) => {
    const stack = await flowStack();
    t.teardown(() => stack.close());
    await stack.flow.start('login-claim', { clientId: 'rp-1' });
    const held = await stack.flow.claim('login-claim', 'AUTHENTICATING');
    t.is(held.record.state, 'INITIATED');
    t.deepEqual(
      (await stack.audit.forSession('login-claim')).map((r) => r.to),
      ['INITIATED'],
      'nothing audited by the claim',
    );
    await t.throwsAsync(stack.instance().transition('login-claim', 'FAILED', { component: 'other' }), {
      code: 'FLOW_ILLEGAL_TRANSITION',
    } as never);
    t.like(await stack.flow.transition('login-claim', 'AUTHENTICATING', { component: 'adapter:x', held }), {
      state: 'AUTHENTICATING',
      version: 2,
    });
    t.deepEqual(
      (await stack.audit.forSession('login-claim')).map((r) => [r.from, r.to]),
      [
        [null, 'INITIATED'],
        ['INITIATED', 'AUTHENTICATING'],
      ],
    );
  },
);

test.serial('a claim from a state that may not lead to the target is refused with the caller’s error', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'login-done', 'COMPLETED');
  await t.throwsAsync(
    stack.flow.claim('login-done', 'AUTHENTICATING', {
      refuse: (state) => Object.assign(new Error(`refused from ${String(state)}`), { code: 'LOGIN_STATE_INVALID' }),
    }),
    { code: 'LOGIN_STATE_INVALID', message: 'refused from COMPLETED' } as never,
  );
  await t.throwsAsync(stack.flow.claim('login-none', 'AUTHENTICATING'), { code: 'FLOW_NOT_FOUND' } as never);
});

test.serial(
  'a claim already held by another request is refused as BUSY, whatever the caller’s own error',
  async (t) => {
    const stack = await flowStack();
    t.teardown(() => stack.close());
    await stack.flow.start('login-twice', { clientId: 'rp-1' });
    const first = await stack.flow.claim('login-twice', 'AUTHENTICATING');
    const second = await stack.instance().tryClaim('login-twice', 'AUTHENTICATING', {
      refuse: () => new Error('not this one: the login is in a legal state'),
    });
    t.true('error' in second);
    t.like((second as { error: unknown }).error, { code: 'FLOW_ILLEGAL_TRANSITION', refusal: 'BUSY' });
    await stack.flow.release('login-twice', first);
    t.true('held' in (await stack.instance().tryClaim('login-twice', 'AUTHENTICATING')));
  },
);

test.serial('a claim held past half its lease is refused before its audit record, and given back', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('login-slow', { clientId: 'rp-1' });
  const held = await stack.flow.claim('login-slow', 'AUTHENTICATING');
  stack.clock.now += HELD_CLAIM_USABLE_MS; // e.g. a signature that took that long
  const refused = await t.throwsAsync(
    stack.flow.transition('login-slow', 'AUTHENTICATING', { component: 'adapter:x', held }),
  );
  t.like(refused, { code: 'FLOW_ILLEGAL_TRANSITION', refusal: 'HELD_TOO_LONG' } as never);
  t.deepEqual(
    (await stack.audit.forSession('login-slow')).map((r) => r.to),
    ['INITIATED'],
    'nothing audited',
  );
  // given back: the person's retry goes through at once, not after the lease
  t.like(await stack.instance().transition('login-slow', 'AUTHENTICATING', { component: 'adapter:x' }), {
    state: 'AUTHENTICATING',
  });
  // just inside it, a held transition goes through
  const again = await stack.flow.claim('login-slow', 'FRAUD_CHECK');
  stack.clock.now += HELD_CLAIM_USABLE_MS - 1;
  t.like(await stack.flow.transition('login-slow', 'FRAUD_CHECK', { component: 'saml', held: again }), {
    state: 'FRAUD_CHECK',
  });
});

test.serial('a claim of a login whose record cannot be read gives the claim back', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('login-corrupt', { clientId: 'rp-1' });
  const redis = stack.redis();
  await redis.hset(recordKey('login-corrupt'), 'acrValues', '{not json');
  await t.throwsAsync(stack.flow.claim('login-corrupt', 'AUTHENTICATING'));
  t.falsy(await redis.hget(recordKey('login-corrupt'), 'pending'), 'no claim left to its lease');
});
