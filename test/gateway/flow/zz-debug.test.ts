import test from 'ava';
import { flowStack, loginIn } from '/work/main/test/gateway/flow/fixtures.ts';
test('debug', async (t) => {
  const stack = await flowStack();
  await loginIn(stack.flow, 'held', 'FRAUD_CHECK');
  console.log('in fraud check');
  const holder = await stack.pool.connect();
  await holder.query('begin');
  await holder.query('lock table audit_log in exclusive mode');
  console.log('locked');
  const first = stack.flow.transition('held', 'TOKEN_GENERATION', { component: 'policy' });
  first.catch((e) => console.log('first failed', e.code));
  for (let i = 0; i < 500; i += 1) {
    const { rows } = await holder.query("select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into audit_log%'");
    if (rows[0].n > 0) { console.log('waiting seen', i); break; }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  console.log('second');
  const second = stack.instance().transition('held', 'FLAGGED', { component: 'policy' });
  await second.catch((e) => console.log('second', e.code));
  await holder.query('commit');
  holder.release();
  console.log('first', (await first).state);
  await stack.close();
  t.pass();
});
