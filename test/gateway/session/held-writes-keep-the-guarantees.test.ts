/**
 * Issue #14 (ninth round): a request's held writes (held-writes.ts) now hold sessions and ends of records
 * too, a read of a record the scope does not hold no longer writes the held ones first, and a session saved
 * again unchanged but for a slightly later expiry is not written. The guarantees stay:
 *
 * - a held session write to a session revoked meanwhile (by another instance) leaves it revoked, in
 *   PostgreSQL and in what the scope reports for Redis (no resurrection after a revocation);
 * - an end followed by a write of the same record in one scope is one statement (the write), and the record
 *   is current under its new cookie id only; an end alone is made when the scope ends, and the record reads
 *   as gone within the scope; an end of a record whose write is held is made after that write (never undone
 *   by it);
 * - a held write that fails fails the scope, even when its work succeeded;
 * - a read of a record the scope does not hold is one statement of its own; of a held one, the held writes
 *   go first;
 * - a session's unchanged re-save is skipped only within a request that read it, only when its expiry moves
 *   later by at most the tolerance, and only when nothing else changed.
 *
 * Real PostgreSQL and Redis (the whole gateway in process, its session store); statements counted on
 * node-postgres's Client.query.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { slidingTolerance } from '../../../gateway/session/session-store.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { startSessionBed, type SessionBed } from './session-bed.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

let counting = false;
const queries: string[] = [];
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '?');
  if (counting) queries.push(text);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;
const counted = async <T>(work: () => Promise<T>): Promise<[T, string[]]> => {
  queries.length = 0;
  counting = true;
  try {
    return [await work(), [...queries]];
  } finally {
    counting = false;
  }
};
const puts = (texts: string[]) => texts.filter((q) => q.includes('session_record_write(')).length;
const ends = (texts: string[]) => texts.filter((q) => q.includes('session_records_close(')).length;
const gets = (texts: string[]) => texts.filter((q) => /where record_key = \$1 and valid_to is null/.test(q)).length;

function record(kind: StoredRecord['kind'], key = randomBytes(32)): StoredRecord {
  return storedRecord(kind, { recordKey: key });
}

let bed: SessionBed;
let pool: pg.Pool;
let durable: DurableTier; // this instance's tier
let other: DurableTier; // another instance's, on the same database
test.before(async () => {
  bed = await startSessionBed();
  pool = createPool(bed.pgUrl);
  durable = new DurableTier(pool);
  other = new DurableTier(pool);
});
test.after.always(async () => {
  await pool?.end();
  await bed?.stop();
});

test.serial('a held session write never resurrects a session revoked meanwhile', async (t) => {
  const session = record('Session');
  await durable.putMany([session]);
  let reported: StoredRecord[] = [];
  await durable.holdWrites(
    async () => {
      t.true(durable.hold([{ ...session, sealed: `${session.sealed}x` }]));
      // another instance revokes it while the request runs
      await other.revoke('session', session.recordKey, 'test', 'test', 'revoked meanwhile', true);
    },
    async ({ stored }) => {
      reported = stored;
    },
  );
  const now = await durable.get(session.recordKey);
  t.is(now?.state, 'revoked');
  t.is(now?.sealed, session.sealed, 'the held write was dropped');
  t.is(reported[0]?.state, 'revoked', 'what the scope reports (the hot tier is written with it) is revoked');
  t.is(reported[0]?.version, 2);
});

test.serial('an end then a write of the same record in one scope: one put, no end', async (t) => {
  const session = record('Session');
  await durable.putMany([session]);
  const renamed = { ...session, lookupKey: randomBytes(32), sealed: `${session.sealed}y` };
  const [, texts] = await counted(() =>
    durable.holdWrites(
      async () => {
        t.true(durable.holdEnd([session.recordKey], [session.lookupKey!]));
        t.is(durable.heldRecord(session.recordKey), 'ended');
        t.true(durable.hold([renamed]));
      },
      async ({ ended, lookups }) => {
        t.deepEqual(ended, [], 'the record is not removed from Redis (it was written again)');
        t.deepEqual(lookups, [session.lookupKey], 'its old cookie pointer is');
      },
    ),
  );
  t.is(puts(texts), 1);
  t.is(ends(texts), 0);
  t.is((await durable.findSession('lookup', session.lookupKey!))?.sealed, undefined, 'the old cookie id names nothing');
  const current = await durable.findSession('lookup', renamed.lookupKey);
  t.is(current?.sealed, renamed.sealed);
  t.is(current?.state, 'active');
});

test.serial('an end alone is made when the scope ends; an end after a held write follows it', async (t) => {
  const alone = record('Session');
  const written = record('Session');
  await durable.putMany([alone, written]);
  const [, texts] = await counted(() =>
    durable.holdWrites(
      async () => {
        t.true(durable.holdEnd([alone.recordKey], []));
        t.true(durable.hold([{ ...written, sealed: `${written.sealed}z` }]));
        t.false(durable.holdEnd([written.recordKey], []), 'its write is held: the caller ends it now');
        await durable.end([written.recordKey]); // writes the held ones first, then ends
      },
      async () => undefined,
    ),
  );
  t.is((await durable.get(alone.recordKey))?.state, 'ended');
  const after = await durable.get(written.recordKey);
  t.is(after?.state, 'ended', 'the held write did not land after its end');
  t.is(after?.sealed, `${written.sealed}z`);
  t.is(puts(texts), 1);
  t.is(ends(texts), 2);
});

test.serial('a held write that fails fails the scope, even when its work succeeded', async (t) => {
  const bad = { ...record('Grant'), kind: 'NotAKind' as StoredRecord['kind'] };
  await t.throwsAsync(() =>
    durable.holdWrites(
      async () => {
        t.true(durable.hold([bad]));
        return 'tokens';
      },
      async () => undefined,
    ),
  );
});

test.serial('a read of a record not held is its own statement; of a held one, the held writes go first', async (t) => {
  const grant = record('Grant');
  const elsewhere = record('Grant');
  await durable.putMany([elsewhere]);
  const [, texts] = await counted(() =>
    durable.holdWrites(
      async () => {
        t.true(durable.hold([grant]));
        t.is((await durable.get(elsewhere.recordKey))?.sealed, elsewhere.sealed);
        t.is(puts(queries), 0, 'nothing written for a read of another record');
        t.is((await durable.get(grant.recordKey))?.sealed, grant.sealed, 'a read of a held record sees it');
        t.is(puts(queries), 1);
      },
      async () => undefined,
    ),
  );
  t.is(gets(texts), 2);
  t.is(puts(texts), 1);
});

test.serial(
  'a session re-saved unchanged is skipped only within the tolerance and a request that read it',
  async (t) => {
    const store = bed.gateway.services.sessions.store;
    const uid = randomBytes(12).toString('base64url');
    const jti = randomBytes(12).toString('base64url');
    const payload = { uid, kind: 'Session', accountId: 'acct', authorizations: {}, exp: 1 };
    const input = (changes: Record<string, unknown>, expiresIn = 3600) => ({
      kind: 'Session' as const,
      id: uid,
      payload: { ...payload, ...changes },
      expiresIn,
      lookupId: jti,
      sids: [],
      accountId: 'acct',
    });
    await store.put(input({}));
    const inRequest = <T>(work: () => Promise<T>) => counted(() => runWithRequestMemo(work));
    const resave = (changes: Record<string, unknown>, expiresIn?: number) =>
      inRequest(async () => {
        await store.get('Session', uid);
        await store.put(input(changes, expiresIn));
      });
    t.is(puts((await resave({ exp: 2 }))[1]), 0, 'only the expiry (seconds later): not written');
    t.is(puts((await resave({ loginTs: 5 }))[1]), 1, 'another field changed: written');
    const beyond = 3600 + slidingTolerance(3600) + 5;
    t.is(puts((await resave({}, beyond))[1]), 1, 'expiry later than the tolerance: written');
    // a session at its absolute end (session-life.ts) is saved for the seconds left until that end: whole seconds,
    // so up to a second before its stored expiry
    t.is(puts((await resave({}, beyond - 1))[1]), 0, 'a capped session (the same end, rounded): not written');
    t.is(puts((await resave({}, 60))[1]), 1, 'an earlier expiry: written');
    t.is(puts((await counted(() => store.put(input({}))))[1]), 1, 'outside a request (not read in it): written');
    const found = await store.get<{ loginTs?: number }>('Session', uid);
    t.is(found?.payload.loginTs, undefined, 'the last write is what is stored');
  },
);

test.serial('a held session write is read back with its stored version (tokens saved after it carry it)', async (t) => {
  const store = bed.gateway.services.sessions.store;
  const uid = randomBytes(12).toString('base64url');
  const input = (loginTs: number) => ({
    kind: 'Session' as const,
    id: uid,
    payload: { uid, kind: 'Session', loginTs },
    expiresIn: 3600,
    lookupId: randomBytes(12).toString('base64url'),
    sids: [],
  });
  const first = await store.put(input(1));
  // every token issued before is refused from now on: the session's version goes up, the session goes on
  const bumped = await other.revoke('session', first.recordKey, 'test', 'test', 'version bump', false);
  await store.hot.setState(bumped.records); // as the revocation API does
  await runWithRequestMemo(async () => {
    t.is((await store.record('Session', first.recordKey))?.version, 2);
    await store.holdWrites(async () => {
      await store.put(input(2));
      t.is((await store.record('Session', first.recordKey))?.version, 2, 'not the version 1 of a fresh record');
    });
  });
  const stored = await durable.get(first.recordKey);
  t.is(stored?.version, 2);
  t.is(stored?.state, 'active');
});
