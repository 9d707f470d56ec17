/**
 * The timers of `replaced-persons.ts`: a person a merge across persons replaced has their grants ended once the
 * merge has surely landed, in one end however many merge rounds (or saves meanwhile) replaced them, with every grant
 * those saves named; looked at again while the session still names them (`stood`) or when the end failed, three
 * times in all; nothing left running once the store stops. The handler here records what it is asked (the real one,
 * `grant-end.ts`, is exercised in `a-merge-across-persons-ends-the-replaced-persons-grants.test.ts`).
 */
import test from 'ava';
import { pino } from 'pino';
import { REPLACED_CHECKS, ReplacedPersons } from '../../../gateway/session/replaced-persons.ts';
import type { ReplacedOutcome, ReplacedPerson } from '../../../gateway/session/session-store-types.ts';

const AFTER_MS = 20;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits (up to 10 s: a loaded machine) for `count` calls, then a while more, for any call beyond them to show. */
async function settle(calls: unknown[], count: number): Promise<void> {
  for (let waited = 0; calls.length < count && waited < 10_000; waited += AFTER_MS) await pause(AFTER_MS);
  await pause(AFTER_MS * (REPLACED_CHECKS + 2) * 3);
}
const session = (accountId: string, grants: Record<string, string>) => ({
  accountId,
  authorizations: Object.fromEntries(Object.entries(grants).map(([rp, grantId]) => [rp, { sid: 's', grantId }])),
});

function bed(answer: (call: number) => Promise<ReplacedOutcome>) {
  const calls: ReplacedPerson[] = [];
  const persons = new ReplacedPersons(AFTER_MS, pino({ level: 'silent' }));
  persons.handle((replaced) => {
    calls.push({ ...replaced, grants: new Map(replaced.grants) });
    return answer(calls.length);
  });
  return { persons, calls };
}

test('one end for every merge round that replaced a person, with the grants of all their saves', async (t) => {
  const { persons, calls } = bed(async () => 'ended');
  const key = Buffer.from('session-1');
  persons.replaced(key, session('ann', { 'rp-a': 'g-a' }));
  persons.replaced(key, session('ann', { 'rp-b': 'g-b' })); // a later round, or a save of hers meanwhile
  persons.replaced(key, session('bob', { 'rp-c': 'g-c' })); // another person replaced on that session: apart
  await settle(calls, 2);
  t.is(calls.length, 2);
  const ann = calls.find((c) => c.accountId === 'ann')!;
  t.deepEqual(
    [...ann.grants],
    [
      ['g-a', 'rp-a'],
      ['g-b', 'rp-b'],
    ],
  );
});

test(`looked at again while the session names the person, ${REPLACED_CHECKS} times in all`, async (t) => {
  const { persons, calls } = bed(async () => 'stood');
  persons.replaced(Buffer.from('session-2'), session('ann', { 'rp-a': 'g-a' }));
  await settle(calls, REPLACED_CHECKS);
  t.is(calls.length, REPLACED_CHECKS);
});

test('an end that failed is tried again, and not after it succeeded', async (t) => {
  const { persons, calls } = bed(async (call) => {
    if (call === 1) throw new Error('PostgreSQL not answering');
    return 'ended';
  });
  persons.replaced(Buffer.from('session-3'), session('ann', { 'rp-a': 'g-a' }));
  await settle(calls, 2);
  t.is(calls.length, 2);
});

test('a session save naming no person replaces nobody; a stopped store ends nothing more', async (t) => {
  const { persons, calls } = bed(async () => 'ended');
  persons.replaced(Buffer.from('session-4'), { authorizations: {} });
  persons.replaced(Buffer.from('session-5'), session('ann', { 'rp-a': 'g-a' }));
  persons.stop();
  await settle(calls, 0);
  t.is(calls.length, 0);
});
