/**
 * Issue #14: an SSO login (the interaction on an existing session) and a `prompt=none` login start their
 * login and move it to FRAUD_CHECK in one chain (`LoginFlow.startThen`), and TOKEN_GENERATION holds the login
 * for COMPLETED (`LoginFlow.transitionHolding`): 6 calls on the login's flow record per login instead of 8
 * (start 2 + FRAUD_CHECK 2 + TOKEN_GENERATION 2 + COMPLETED 2 before), and each transition is still audited, in
 * order. The SSO login's context is still saved for its completion (the login
 * ends at the RP with a code). Real gateway, real Redis and PostgreSQL; commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

let flowCalls: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  const [command] = args;
  const key = String(command.name.toLowerCase() === 'evalsha' ? command.args[2] : command.args[0]);
  if (flowCalls && /:flow:\{s\d+\}:login:/.test(key)) flowCalls.push(key.replace(/^.*:login:/, ''));
  return sendCommand.apply(this, args);
};

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial('an SSO login and a prompt=none login: 6 flow calls each, every transition audited', async (t) => {
  const { browser } = await logIn(bed);
  for (const prompt of [undefined, 'none'] as const) {
    const request = await authorizationRequest(bed.rp, prompt ? { prompt } : {});
    flowCalls = [];
    const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
    await landing.response.body?.cancel();
    const calls = flowCalls;
    flowCalls = undefined;
    t.truthy(landing.url.searchParams.get('code'), `${prompt ?? 'sso'}: a code`);
    const logins = [...new Set(calls)];
    t.is(logins.length, 1, `one login (${prompt ?? 'sso'})`);
    t.is(calls.length, 6, `${prompt ?? 'sso'}: 6 calls on the login's flow record`);
    const { rows } = await bed.gateway.services.pool.query(
      'select from_state, to_state from audit_log where session_id = $1 order by seq',
      [logins[0]],
    );
    t.deepEqual(
      rows.map((r: { from_state: string | null; to_state: string }) => `${r.from_state ?? '∅'}→${r.to_state}`),
      ['∅→INITIATED', 'INITIATED→FRAUD_CHECK', 'FRAUD_CHECK→TOKEN_GENERATION', 'TOKEN_GENERATION→COMPLETED'],
    );
  }
});
