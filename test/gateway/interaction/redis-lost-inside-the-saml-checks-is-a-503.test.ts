/**
 * Redis lost while the SAML adapter checks an answer (issue #15, a Sentinel failover seen in CI): the
 * adapter's replay and pending-request steps call the shared state store, and the adapter wraps any failure
 * that is not its own in `SAML_INTERNAL_ERROR`. That code over a dependency gone away is refused with the
 * dependency's code (`FLOW_STORE_UNAVAILABLE`, 503), audited, and answered as that code is: the RP told
 * `temporarily_unavailable`, or, while Redis still does not answer, the error page with 503 (the sweeper fails
 * the login once Redis is back). Never a 500, never a code.
 *
 * The fault is real: the gateway's own Redis connection is dropped just before the step's command, so the
 * command meets the client reconnecting (the gateway's fail-fast layer refuses it).
 */
import test, { type ExecutionContext } from 'ava';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(() => fx?.stop());

/** Runs a login whose ACS request loses the Redis connection right before the store call named `method`. */
async function loginLosingRedisAt(t: ExecutionContext, method: 'putIfAbsent' | 'take', keyPart: string) {
  const { redis } = fx.gateway.services;
  const original = Object.getOwnPropertyDescriptor(RedisStateStore.prototype, method)!;
  let dropped = 0;
  Object.defineProperty(RedisStateStore.prototype, method, {
    ...original,
    value: async function (this: RedisStateStore, key: string, ...rest: unknown[]) {
      if (key.includes(keyPart) && dropped === 0) {
        dropped += 1;
        const closed = new Promise((resolve) => redis.once('close', resolve));
        redis.disconnect(true); // reconnects by itself (ioredis's retry strategy, 50 ms first)
        await closed;
      }
      return (original.value as (...args: unknown[]) => Promise<unknown>).call(this, key, ...rest);
    },
  });
  const request = await authorizationRequest(fx.rp);
  try {
    const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
    t.is(dropped, 1, `the connection was dropped before the ${method} of ${keyPart}`);
    return journey;
  } finally {
    Object.defineProperty(RedisStateStore.prototype, method, original);
    if (fx.gateway.services.redis.status !== 'ready')
      await new Promise((resolve) => fx.gateway.services.redis.once('ready', resolve));
  }
}

for (const [step, method, keyPart] of [
  ['replay', 'putIfAbsent', 'saml:assertion:'],
  ['in-response-to', 'take', 'saml:pending:'],
] as const) {
  test.serial(`Redis lost at the ${step} check: a 503 for the dependency, never a 500, never a code`, async (t) => {
    const audited = () =>
      fx.gateway.services.pool
        .query<{ n: number }>("select count(*)::int as n from audit_log where error_code = 'FLOW_STORE_UNAVAILABLE'")
        .then(({ rows }) => rows[0]!.n);
    const before = await audited();
    const journey = await loginLosingRedisAt(t, method, keyPart);
    t.is(journey.url.searchParams.get('code'), null, 'never a code');
    t.true((await audited()) > before, 'the refusal is audited with the code');
    if (journey.url.toString().startsWith(RP_REDIRECT)) {
      t.is(journey.url.searchParams.get('error'), 'temporarily_unavailable');
      const record = await fx.gateway.services.flow.get(journey.loginId!);
      t.like(record, { state: 'FAILED', errorCode: 'FLOW_STORE_UNAVAILABLE' });
    } else {
      t.is(journey.status, 503, `the error page answers the dependency's status: ${journey.html.slice(0, 300)}`);
      t.is(codeOf(journey.html), 'INTERNAL', 'a 5xx page names no dependency (the log does: FLOW_STORE_UNAVAILABLE)');
    }
  });
}

test.serial('after Redis is back, the same person logs in', async (t) => {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'), `${journey.status} ${journey.url}`);
});
