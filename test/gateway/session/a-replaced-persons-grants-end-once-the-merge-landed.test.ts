/**
 * The grants of a person a merge across persons replaced are written down in PostgreSQL at the merge
 * (`replaced-persons.ts`, `session_grants_to_end`) and ended by the sweeper of any instance once due: an instance
 * that wrote them and stopped loses none. Rows for one (session, person) gather every save's grants; a row whose
 * session still names that person is looked at again, three times in all, then dropped, the grants left.
 * One test at a time: each starts a gateway with a SoftHSM2 token of its own, and a token created while another of
 * this process is open is not always seen. Real Redis and PostgreSQL: the rows are written here as a stopped instance would have (a `ReplacedPersons` of its
 * own that never sweeps), and swept by the running gateway's timer.
 */
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { REPLACED_CHECKS, ReplacedPersons } from '../../../gateway/session/replaced-persons.ts';
import { eventually } from '../../helpers/eventually.ts';
import { aSession, personOf, type Store } from './session-saves.ts';

/** `person` saved (their session and grants), as that person's request would. */
async function saved(store: Store, person: ReturnType<typeof personOf>) {
  await person.save(store);
  return person;
}

const grantLeft = async (store: Store, grantId: string) =>
  (await store.durable.keysOfGrant(store.keys.key('Grant', grantId))).length;

async function bed(t: ExecutionContext) {
  // a Redis command timeout of 300 ms: a row is looked at again 1.9 s after it was taken
  const { fx, store, uid } = await aSession(t, {
    rawConfig: (raw) => Object.assign(raw.redis as object, { commandTimeoutMs: 300 }),
  });
  // the instance that merged, and stopped: its rows due 1 s after (the running gateway sweeps them)
  const stopped = new ReplacedPersons({
    pool: fx.gateway.services.pool,
    keys: store.keys,
    delayMs: 1_000,
    logger: pino({ level: 'silent' }),
  });
  const rows = async () =>
    (
      await fx.gateway.services.pool.query<{ checks: number }>(
        'select checks from session_grants_to_end where record_key = $1',
        [store.keys.key('Session', uid)],
      )
    ).rows;
  return { fx, store, uid, stopped, rows };
}

test.serial("a replaced person's grants written down by an instance that stopped are ended by another", async (t) => {
  const { store, uid, stopped, rows } = await bed(t);
  const ann = await saved(store, personOf(uid, 'acct-1', ['rp-a']));
  const annLater = await saved(store, personOf(`${uid}-other-tab`, 'acct-1', ['rp-b'])); // another save of hers, its grant
  await saved(store, personOf(uid, 'acct-2', ['rp-c'])); // the session is now acct-2's
  await stopped.replaced(store.keys.key('Session', uid), ann.session);
  await stopped.replaced(store.keys.key('Session', uid), {
    ...ann.session,
    authorizations: annLater.session.authorizations,
  });
  t.deepEqual(
    (await rows()).map((r) => r.checks),
    [0],
    'one row for the session and person, with both saves’ grants, not looked at yet',
  );
  const annEnded = async () =>
    (await grantLeft(store, ann.grantOf('rp-a'))) === 0 && (await grantLeft(store, annLater.grantOf('rp-b'))) === 0;
  t.true(await eventually(annEnded, 60_000), "ann's grants ended");
  t.true(await eventually(async () => (await rows()).length === 0, 60_000), 'the row deleted');
  t.is(await grantLeft(store, `${uid}-acct-2-rp-c`), 1, "the session's person's grant stands");
});

test.serial(
  `a replaced person the session names again keeps their grants: looked at ${REPLACED_CHECKS} times, then dropped`,
  async (t) => {
    const { store, uid, stopped, rows } = await bed(t);
    const ann = await saved(store, personOf(uid, 'acct-1', ['rp-a'])); // the session is (still, or again) ann's
    await stopped.replaced(store.keys.key('Session', uid), ann.session);
    let looks = 0;
    const dropped = async () => {
      const [row] = await rows();
      looks = Math.max(looks, row?.checks ?? 0);
      return row === undefined;
    };
    t.true(await eventually(dropped, 60_000), `looked at ${REPLACED_CHECKS} times and dropped`);
    // a look holds the row for 1.9 s: the one before the last is seen (the last deletes it at once)
    t.true(looks >= REPLACED_CHECKS - 1, `seen looked at ${looks} times before it was dropped`);
    t.is(await grantLeft(store, ann.grantOf('rp-a')), 1, "ann's grant stands");
  },
);

test.serial('a save naming no person or no grant writes nothing down', async (t) => {
  const { store, uid, stopped, rows } = await bed(t);
  await stopped.replaced(store.keys.key('Session', uid), { authorizations: { 'rp-a': { grantId: 'g' } } });
  await stopped.replaced(store.keys.key('Session', uid), { accountId: 'acct-1', authorizations: {} });
  t.deepEqual(await rows(), []);
});

test.serial(
  'a merge that adds to a row a sweep has taken keeps it for the next sweep, its looks counted afresh',
  async (t) => {
    const { fx, store, uid, stopped, rows } = await bed(t);
    const ann = await saved(store, personOf(uid, 'acct-1', ['rp-a'])); // the session names ann: every look 'stood'
    await stopped.replaced(store.keys.key('Session', uid), ann.session);
    t.true(await eventually(async () => (await rows())[0]?.checks === 1, 60_000), 'taken once');
    await stopped.replaced(store.keys.key('Session', uid), ann.session); // the same grants, merged again
    t.deepEqual(
      (await rows()).map((r) => r.checks),
      [0],
      'looks counted afresh',
    );
    const { rows: versions } = await fx.gateway.services.pool.query<{ version: string }>(
      'select version from session_grants_to_end where record_key = $1',
      [store.keys.key('Session', uid)],
    );
    t.is(versions[0]?.version, '1');
  },
);
