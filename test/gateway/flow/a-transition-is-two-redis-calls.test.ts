/**
 * Issue #14: a live transition costs two Redis calls — the claim, which also checks the state table and
 * the deadline and answers the login, and the commit — around its one audit insert; no read of the login
 * before the claim. The scripts run by SHA (EVALSHA), their text sent again only when Redis does not
 * hold them (here: after SCRIPT FLUSH). Real Redis and PostgreSQL; commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { flowStack } from './fixtures.ts';

let commands: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  commands?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};

test.serial('a live transition is one claim and one commit, run by SHA', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('login-2rt', { clientId: 'rp-1' });
  await stack.flow.transition('login-2rt', 'AUTHENTICATING', { component: 'test' }); // scripts loaded
  commands = [];
  const login = await stack.flow.transition('login-2rt', 'FRAUD_CHECK', { component: 'test' });
  const sent = commands;
  commands = undefined;
  t.deepEqual(sent, ['evalsha', 'evalsha']);
  t.like(login, { state: 'FRAUD_CHECK', clientId: 'rp-1', version: 3 });
  const trail = await stack.audit.forSession('login-2rt');
  t.like(trail.at(-1), { from: 'AUTHENTICATING', to: 'FRAUD_CHECK' });
});

test.serial('a Redis that lost its scripts gets their text again, and the transition goes through', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('login-noscript', { clientId: 'rp-1' });
  await stack.redis().script('FLUSH');
  const login = await stack.flow.transition('login-noscript', 'AUTHENTICATING', { component: 'test' });
  t.is(login.state, 'AUTHENTICATING');
  t.is((await stack.flow.get('login-noscript'))?.state, 'AUTHENTICATING');
});

/**
 * What Redis itself runs for a transition, scripts' inner calls included (MONITOR shows them, tagged `lua`),
 * filtered to this login's keys: the claim reads the login once (HGETALL) and marks it; the commit reads its
 * mark and the version in one HMGET. It was 2 + 9 (HMGET + HSET + HGETALL, HGET + HDEL + HSET + HINCRBY +
 * EXPIRE + ZADD).
 */
test.serial('inside Redis, a live transition is its 2 scripts and 7 calls', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await stack.flow.start('login-calls', { clientId: 'rp-1' });
  await stack.flow.transition('login-calls', 'AUTHENTICATING', { component: 'test' }); // scripts loaded
  const monitor = await stack.redis().monitor();
  t.teardown(() => monitor.disconnect());
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args.some((a) => a.includes('login-calls'))) seen.push(`${source.startsWith('lua') ? 'lua ' : ''}${args[0]}`);
  });
  const login = await stack.flow.transition('login-calls', 'FRAUD_CHECK', { component: 'test' });
  await stack.redis().ping(); // MONITOR lines of the transition arrive before the answer to a later command
  await new Promise((resolve) => setTimeout(resolve, 100));
  const calls = seen.map((c) => c.toLowerCase());
  t.like(login, { state: 'FRAUD_CHECK', version: 3 });
  const record = await stack.flow.get('login-calls');
  t.like(record, { state: 'FRAUD_CHECK', version: 3 });
  t.deepEqual(calls, [
    'evalsha',
    'lua hgetall',
    'lua hset',
    'evalsha',
    'lua hmget',
    'lua hdel',
    'lua hset',
    'lua expire',
    'lua zadd',
  ]);
});
