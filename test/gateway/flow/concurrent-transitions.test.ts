import test from 'ava';
import type { LoginRecord } from '../../../gateway/flow/login-flow.ts';
import { eventuallyOrThrow } from '../../helpers/eventually.ts';
import { flowStack, loginIn, newLoginId } from './fixtures.ts';

test('of two concurrent transitions from the same state on two instances, exactly one wins', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const a = stack.flow;
  const b = stack.instance();
  for (let round = 0; round < 25; round += 1) {
    const loginId = newLoginId('race');
    await loginIn(a, loginId, 'FRAUD_CHECK');
    const before = (await stack.audit.forSession(loginId)).length;
    const results = await Promise.allSettled([
      a.transition(loginId, 'TOKEN_GENERATION', { component: 'policy' }),
      b.transition(loginId, 'FLAGGED', { component: 'policy' }),
    ]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    t.is(won.length, 1);
    t.is((lost[0] as PromiseRejectedResult).reason.code, 'FLOW_ILLEGAL_TRANSITION');
    const winner = (won[0] as PromiseFulfilledResult<LoginRecord>).value.state;
    t.is((await a.get(loginId))!.state, winner);
    const trail = await stack.audit.forSession(loginId);
    t.is(trail.length, before + 1);
    t.is(trail.at(-1)!.to, winner);
  }
});

test('a transition arriving while another is writing its audit record is refused, and the first completes', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  await loginIn(stack.flow, 'held', 'FRAUD_CHECK');
  // Hold the audit table so that the first transition stops between its claim and its commit.
  const holder = await stack.pool.connect();
  await holder.query('begin');
  await holder.query('lock table audit_log in exclusive mode');
  const first = stack.flow.transition('held', 'TOKEN_GENERATION', { component: 'policy' });
  // Polled from another connection: inside a transaction, pg_stat_activity is a frozen snapshot. Without
  // the first transition waiting on the lock, the second would not race it: no silent going on.
  await eventuallyOrThrow(async () => {
    const { rows } = await stack.pool.query(
      "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into audit_log%'",
    );
    return rows[0].n > 0;
  }, 'the first transition to wait on the held audit table');
  const second = stack.instance().transition('held', 'FLAGGED', { component: 'policy' });
  await t.throwsAsync(second, { code: 'FLOW_ILLEGAL_TRANSITION' } as never);
  await holder.query('commit');
  holder.release();
  t.is((await first).state, 'TOKEN_GENERATION');
  const trail = await stack.audit.forSession('held');
  t.deepEqual(
    trail.slice(-1).map((record) => [record.from, record.to]),
    [['FRAUD_CHECK', 'TOKEN_GENERATION']],
  );
});
