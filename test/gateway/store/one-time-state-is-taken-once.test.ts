/**
 * The one-time state behind SAML and WebAuthn is taken atomically (issue #10 item 1): 50 presentations
 * at once of one AuthnRequest ID (InResponseTo), one assertion ID, one WebAuthn challenge, one login
 * outcome (a step-up continuation or a completion), and 50 completions of one login: exactly one wins.
 */
import test from 'ava';
import { createRedis } from '../../../gateway/store/redis.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { ChallengeStore } from '../../../gateway/webauthn/challenges.ts';
import { LoginContextStore } from '../../../gateway/session/login-context.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { sessionCipher } from '../../helpers/session-cipher.ts';
import { flowStack, loginIn, newLoginId } from '../flow/fixtures.ts';

const N = 50;

function wins<T>(results: PromiseSettledResult<T>[], won: (value: T) => boolean): number {
  return results.filter((r) => r.status === 'fulfilled' && won(r.value)).length;
}

test('one pending AuthnRequest (InResponseTo) is taken by exactly one of 50 responses', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const state = new RedisStateStore(redis);
  await state.put('saml:pending:_req1', '{"loginId":"l"}', 600);
  const results = await Promise.allSettled(Array.from({ length: N }, () => state.take('saml:pending:_req1')));
  t.is(
    wins(results, (v) => v !== null),
    1,
  );
});

test('one assertion ID passes the replay cache for exactly one of 50 presentations', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const state = new RedisStateStore(redis);
  const results = await Promise.allSettled(
    Array.from({ length: N }, () => state.putIfAbsent('saml:assertion:idp:_a1', '1', 60)),
  );
  t.is(
    wins(results, (v) => v),
    1,
  );
});

test('one WebAuthn challenge is verified by exactly one of 50 answers; the others get WEBAUTHN_CHALLENGE_UNKNOWN', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const challenges = new ChallengeStore(redis);
  await challenges.issue('authenticate', 'uid1', { challenge: 'c', accountId: 'a' });
  const results = await Promise.allSettled(Array.from({ length: N }, () => challenges.take('authenticate', 'uid1')));
  t.is(
    wins(results, () => true),
    1,
  );
  const codes = new Set(
    results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason as { code: string }).code),
  );
  t.deepEqual(codes, new Set(['WEBAUTHN_CHALLENGE_UNKNOWN']));
});

test('one login outcome (step-up continuation or completion) is acted on by exactly one of 50 requests', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const sealing = await sessionCipher();
  t.teardown(() => sealing.close());
  const logins = new LoginContextStore(redis, 600, sealing.cipher);
  await logins.saveOutcome('l1', { status: 'rejected', code: 'IDENTITY_INVALID' });
  const results = await Promise.allSettled(Array.from({ length: N }, () => logins.takeOutcome('l1')));
  t.is(
    wins(results, (v) => v !== null),
    1,
  );
});

test('a login completes once: of 50 concurrent COMPLETED transitions exactly one is applied and audited', async (t) => {
  const stack = await flowStack();
  t.teardown(() => stack.close());
  const loginId = newLoginId('once');
  await loginIn(stack.flow, loginId, 'TOKEN_GENERATION');
  const before = (await stack.audit.forSession(loginId)).length;
  const results = await Promise.allSettled(
    Array.from({ length: N }, () => stack.flow.transition(loginId, 'COMPLETED', { component: 'interaction' })),
  );
  t.is(
    wins(results, () => true),
    1,
  );
  const trail = await stack.audit.forSession(loginId);
  t.is(trail.length, before + 1);
});
