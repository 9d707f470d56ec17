/**
 * Issue #14, ninth round's review: the held writes of one scope (gateway/session/held-writes.ts)
 *
 * - an end held by work that then fails is still made, and when its statement fails the scope fails with
 *   that storage error (the work's error as its cause): oidc-provider revokes a grant on a refresh token
 *   presented again, then throws invalid_grant — a lost revocation must not hide behind that answer;
 * - a read of a record in a scope whose write is under way waits for that write (the records being written
 *   have left the held list, but PostgreSQL does not have them yet);
 * - a record checked in a scope (a session saved unchanged) has its state read with the writes and reported,
 *   unless the scope writes or ends it after all; a check that cannot be read loses no write or end of the scope
 *   (they are made and reported, the check as `unknown`), then fails the scope; checks are read only when the
 *   scope ends, and only if it still wants them then.
 *
 * The holder is driven through its own contract: its two statements are the callbacks the durable tier
 * gives it (the tier's real statements are covered by held-writes-keep-the-guarantees.test.ts).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { UncheckedRecords, WriteHolder, type HeldOutcome } from '../../../gateway/session/held-writes.ts';

interface Rec {
  recordKey: Buffer;
}

test('an end held by failed work is made; when it cannot be, the scope fails with the storage error', async (t) => {
  const ended: Buffer[][] = [];
  const key = randomBytes(32);
  const refused = new Error('permission denied for table session_records');
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async (keys) => {
      ended.push([...keys]);
      throw refused;
    },
    async () => [],
  );
  const invalidGrant = new Error('invalid_grant');
  const error = await t.throwsAsync(
    holder.run(
      async () => {
        t.true(holder.holdEnd([key], []));
        throw invalidGrant;
      },
      async () => undefined,
    ),
  );
  t.is(ended.length, 1, 'the held end was attempted');
  t.true(ended[0]![0]!.equals(key));
  t.is(error, refused, 'the storage failure is what the scope answers');
  t.is((error as Error).cause, invalidGrant, "the work's own error is kept as its cause");
});

test('an end held by failed work that is stored leaves the work error as the answer', async (t) => {
  const ended: Buffer[] = [];
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async (keys) => {
      ended.push(...keys);
    },
    async () => [],
  );
  const invalidGrant = new Error('invalid_grant');
  const error = await t.throwsAsync(
    holder.run(
      async () => {
        holder.holdEnd([randomBytes(32)], []);
        throw invalidGrant;
      },
      async () => undefined,
    ),
  );
  t.is(error, invalidGrant);
  t.is(ended.length, 1);
});

test('a read in a scope whose write is under way waits for it', async (t) => {
  let release!: () => void;
  const writing = new Promise<void>((resolve) => {
    release = resolve;
  });
  const holder = new WriteHolder<Rec>(
    async (records) => {
      await writing;
      return [...records];
    },
    async () => undefined,
    async () => [],
  );
  const written = randomBytes(32);
  const other = randomBytes(32);
  await holder.run(
    async () => {
      holder.hold([{ recordKey: written }]);
      const flushing = holder.flush();
      await Promise.resolve();
      t.true(holder.holds(written), 'the record being written: a read waits');
      t.true(holder.holds(other), 'any read of the scope waits while its write is under way');
      release();
      await flushing;
      t.false(holder.holds(written), 'once stored, nothing to wait for');
    },
    async () => undefined,
  );
});

test('a checked record is read with the writes and reported; one the scope writes or ends is not read', async (t) => {
  const [checkedOnly, written, ended] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const read: Buffer[][] = [];
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async () => undefined,
    async (keys) => {
      read.push([...keys]);
      return keys.map((recordKey) => ({ recordKey, state: 'ended' }));
    },
  );
  const outcomes: Array<HeldOutcome<Rec>> = [];
  const outside = await holder.run(
    async () => {
      t.true(holder.holdCheck(checkedOnly));
      t.true(holder.holdCheck(written));
      t.true(holder.holdCheck(ended));
      holder.hold([{ recordKey: written }]);
      holder.holdEnd([ended], []);
      return 'answered';
    },
    async (outcome) => {
      outcomes.push(outcome);
    },
  );
  t.is(outside, 'answered');
  t.is(read.length, 1, 'one read, with the writes');
  t.deepEqual(read[0], [checkedOnly], 'the written and the ended record are answered by their own statements');
  t.is(outcomes.length, 1);
  t.deepEqual(outcomes[0]!.checked, [{ recordKey: checkedOnly, state: 'ended' }]);
  t.false(holder.holdCheck(randomBytes(32)), 'outside a scope nothing is checked');
});

test('a check that cannot be read loses nothing held: the ends are made and reported, then the scope fails', async (t) => {
  const [checked, written, ended] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const made: Buffer[] = [];
  const unreachable = new Error('connect ECONNREFUSED 127.0.0.1:5432');
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async (keys) => {
      made.push(...keys);
    },
    async () => {
      throw unreachable;
    },
  );
  const outcomes: Array<HeldOutcome<Rec>> = [];
  const error = await t.throwsAsync(
    holder.run(
      async () => {
        holder.holdCheck(checked);
        holder.hold([{ recordKey: written }]);
        holder.holdEnd([ended], []);
        return 'answered';
      },
      async (outcome) => {
        outcomes.push(outcome);
      },
    ),
  );
  t.true(error instanceof UncheckedRecords);
  t.is(error?.cause, unreachable);
  t.deepEqual(made, [ended], 'the held end was made');
  t.is(outcomes.length, 1, 'what was stored is reported');
  t.true(outcomes[0]!.stored[0]!.recordKey.equals(written));
  t.deepEqual(outcomes[0]!.checked, [{ recordKey: checked, state: 'unknown' }]);
});

test('checks are read only when the scope ends, and only if it still wants them then', async (t) => {
  const read: Buffer[] = [];
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async () => undefined,
    async (keys) => {
      read.push(...keys);
      return keys.map((recordKey) => ({ recordKey, state: 'active' }));
    },
  );
  let wanted = false;
  await holder.run(
    async () => {
      holder.holdCheck(randomBytes(32));
      holder.hold([{ recordKey: randomBytes(32) }]);
      await holder.flush(); // a read in the scope writes what it holds first: no check yet
      t.is(read.length, 0, 'no check before the scope ends');
    },
    async () => undefined,
    () => wanted,
  );
  t.is(read.length, 0, 'a scope that does not want its checks when it ends reads none');
  wanted = true;
  await holder.run(
    async () => {
      holder.holdCheck(randomBytes(32));
    },
    async () => undefined,
    () => wanted,
  );
  t.is(read.length, 1, 'one that wants them reads them');
});

test("a check answered by the scope's own end in an earlier flush is dropped; a throwing predicate loses nothing", async (t) => {
  const read: Buffer[] = [];
  const made: Buffer[] = [];
  const holder = new WriteHolder<Rec>(
    async (records) => [...records],
    async (keys) => {
      made.push(...keys);
    },
    async (keys) => {
      read.push(...keys);
      return keys.map((recordKey) => ({ recordKey, state: 'active' }));
    },
  );
  const [endedKey, otherKey] = [randomBytes(32), randomBytes(32)];
  await holder.run(
    async () => {
      holder.holdCheck(endedKey); // saved unchanged…
      holder.holdEnd([endedKey], []); // …then ended by the same request
      await holder.flush(); // a read in the scope makes the end now
      holder.holdCheck(otherKey);
      holder.hold([{ recordKey: randomBytes(32) }]);
    },
    async () => undefined,
    () => {
      throw new Error('the predicate failed');
    },
  );
  t.true(
    made.some((k) => k.equals(endedKey)),
    'the end was made',
  );
  t.deepEqual(read, [otherKey], 'only the record the scope neither wrote nor ended is checked, predicate or not');
});
