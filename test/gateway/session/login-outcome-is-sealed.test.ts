/**
 * Between the IdP's answer and the completion of a login, its outcome (with the person's pivot identity)
 * waits in Redis: sealed, never in clear; a value moved to another login does not open; it is taken once.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { LoginContextStore, type LoginOutcome } from '../../../gateway/session/login-context.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { sessionCipher } from '../../helpers/session-cipher.ts';

const OUTCOME: LoginOutcome = {
  status: 'verified',
  accountId: 'acc-1',
  idp: 'demo-idp',
  fraudScore: 0.1,
  authTime: 1_700_000_000,
  oneTimeUse: false,
  decision: { kind: 'allow', requiredAcr: 'eidas2', reasons: [] },
  pivot: {
    given_name: 'Jean Pierre',
    family_name: 'Martin',
    birthdate: '1962-11-03',
    gender: 'male',
    birthplace: '69123',
    birthcountry: '99100',
    acr: 'eidas3',
  },
} as unknown as LoginOutcome;

test('the login outcome is sealed in Redis, opens only for its login, and is taken once', async (t) => {
  const prefix = redisPrefix();
  const redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
  const raw = new Redis(redisUrl());
  const sealing = await sessionCipher();
  t.teardown(async () => {
    await sealing.close();
    raw.disconnect();
    await redis.quit();
  });
  const logins = new LoginContextStore(redis, 600, sealing.cipher);
  await logins.saveOutcome('login-a', OUTCOME);
  const stored = (await raw.get(`${prefix}login:login-a:outcome`))!;
  t.regex(stored, /^s1\.\d+\./);
  for (const clear of ['Jean Pierre', '1962-11-03', 'Martin', 'acc-1']) t.false(stored.includes(clear), clear);

  // moved to another login, it does not open
  await raw.set(`${prefix}login:login-b:outcome`, stored);
  await t.throwsAsync(() => logins.takeOutcome('login-b'), { code: 'HSM_DECRYPT_FAILED' });

  t.deepEqual(await logins.takeOutcome('login-a'), OUTCOME);
  t.is(await logins.takeOutcome('login-a'), null);
});
