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

// one token per file: a token made after this process opened the PKCS#11 module is seen only once all are closed
const sealing = await sessionCipher();
test.after.always(() => sealing.close());

test('the login outcome is sealed in Redis, opens only for its login, and is taken once', async (t) => {
  const prefix = redisPrefix();
  const redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
  const raw = new Redis(redisUrl());
  t.teardown(async () => {
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

for (const name of ['review:outcome', 'webauthn:pending'] as const)
  test(`the outcome held as ${name} is sealed too, opens only under its name and login, and is taken once`, async (t) => {
    const prefix = redisPrefix();
    const redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
    const raw = new Redis(redisUrl());
    t.teardown(async () => {
      raw.disconnect();
      await redis.quit();
    });
    const logins = new LoginContextStore(redis, 600, sealing.cipher);
    const held = { level: 2, outcome: OUTCOME };
    await logins.holdSealed(name, 'login-a', held, 900);
    const stored = (await raw.get(`${prefix}${name}:login-a`))!;
    t.regex(stored, /^s1\.\d+\./);
    for (const clear of ['Jean Pierre', '1962-11-03', 'Martin', 'acc-1']) t.false(stored.includes(clear), clear);
    t.true((await raw.ttl(`${prefix}${name}:login-a`)) > 600, 'kept as long as asked');

    // moved to another login or another name, it does not open
    await raw.set(`${prefix}${name}:login-b`, stored);
    await t.throwsAsync(() => logins.peekSealed(name, 'login-b'), { code: 'HSM_DECRYPT_FAILED' });
    const other = name === 'review:outcome' ? 'webauthn:pending' : 'review:outcome';
    await raw.set(`${prefix}${other}:login-a`, stored);
    await t.throwsAsync(() => logins.peekSealed(other, 'login-a'), { code: 'HSM_DECRYPT_FAILED' });

    t.deepEqual(await logins.peekSealed(name, 'login-a'), held, 'a peek leaves it');
    t.deepEqual(await logins.takeSealed(name, 'login-a'), held);
    t.is(await logins.takeSealed(name, 'login-a'), null);
  });
