/**
 * An enrolment grant buys one key, whatever runs at once (WebAuthn review, thirty-seventh round): it is spent only if
 * it is still the grant the request read, in one script. Five registrations racing on one grant: one spends it. A
 * grant confirmed meanwhile (its copy read before is stale), a spent one (level 0), or none: nothing is spent.
 * The delete-then-write it replaces answered "deleted" to each racer in turn, once the first had written the spent
 * grant back: two keys for one grant, the second past the "confirm with an existing key" rule.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { enrolmentKey } from '../../gateway/session/enrolment-key.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { spendEnrolmentGrant } from '../../gateway/webauthn/enrolment-spend.ts';
import type { EnrolmentGrant } from '../../gateway/webauthn/step-up.ts';
import { redisPrefix, redisUrl } from '../helpers/services.ts';

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
test.after.always(() => redis.quit());

const grant = (over: Partial<EnrolmentGrant> = {}): EnrolmentGrant => ({
  accountId: 'acct-1',
  displayName: 'Jean Dupont',
  binding: 'bind-1',
  level: 2,
  confirmed: false,
  authTime: 1_765_000_000,
  ...over,
});

async function stored(uid: string, g: EnrolmentGrant): Promise<void> {
  const { displayName: _name, ...rest } = g;
  await redis.set(enrolmentKey(uid), JSON.stringify(rest), 'EX', 600);
}

test('five registrations racing on one grant: one spends it', async (t) => {
  const uid = randomUUID();
  const read = grant();
  await stored(uid, read);
  const spent = await Promise.all(Array.from({ length: 5 }, () => spendEnrolmentGrant(redis, uid, read)));
  t.is(spent.filter(Boolean).length, 1);
  const after = JSON.parse((await redis.get(enrolmentKey(uid)))!) as EnrolmentGrant;
  t.like(after, { level: 0, confirmed: false, accountId: 'acct-1' });
  t.false('displayName' in after, 'no name in Redis');
  t.false(await spendEnrolmentGrant(redis, uid, read), 'the copy read before is spent');
});

test('a grant that changed since it was read, a spent one or none is not spent', async (t) => {
  const uid = randomUUID();
  const read = grant();
  await stored(uid, { ...read, confirmed: true }); // confirmed meanwhile by another request
  t.false(await spendEnrolmentGrant(redis, uid, read));
  t.true(await spendEnrolmentGrant(redis, uid, { ...read, confirmed: true }), 'the current copy spends it');

  const zero = randomUUID();
  await stored(zero, grant({ level: 0 }));
  t.false(await spendEnrolmentGrant(redis, zero, grant({ level: 0 })), 'the account page alone buys no key');
  t.false(await spendEnrolmentGrant(redis, randomUUID(), read), 'no grant');
  const other = randomUUID();
  await stored(other, grant({ binding: 'bind-2' }));
  t.false(await spendEnrolmentGrant(redis, other, read), "another browser's grant");
});
