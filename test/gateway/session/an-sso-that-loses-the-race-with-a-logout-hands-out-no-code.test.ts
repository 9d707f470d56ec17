/**
 * An SSO login whose session another request ended while it ran (a logout in another tab, on another instance)
 * hands out no code: its session write is refused (the session stays ended: migrations 0760, 0780), and the
 * request answers 400 `login_required` instead of the redirect that carried the code
 * (`session/session-closed-meanwhile.ts`, `oidc/request-writes-together.ts`). Before, the code reached the RP and
 * only its exchange failed; an RP whose grant persists logout got tokens for a session logged out before.
 *
 * A `prompt=none` request saves the session it read unchanged (not written: saved-again.ts), so there is no refused
 * write to see: its session's current state is checked with the request's writes, and a closed one gets
 * `login_required` at the RP's redirect URI (a silent renew learns it at once, no page in its iframe).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import test, { type ExecutionContext } from 'ava';
import { REVOKED_SUCCESSOR } from '../../../gateway/session/durable-statements.ts';
import type { SessionStore } from '../../../gateway/session/session-store.ts';
import { COLUMNS } from '../../../gateway/session/stored-record.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { eventually } from '../../helpers/eventually.ts';
import { logIn, startSessionBed, type SessionBed } from './session-bed.ts';

test.serial(
  'an SSO whose session a logout ended meanwhile answers login_required, and no code reaches the RP',
  async (t) => {
    // the request that saves the session (the SSO's resumption) runs; just before its writes go, another instance
    // ends the session (its logout's end, straight in PostgreSQL)
    const { bed, store, sessionKey, landing, closed } = await raceOneRequest(t, {
      closeWhen: (s, key) => typeof s.durable.heldRecord(key) === 'object',
      close: (bed, key) => closeInPostgres(bed, key),
    });
    t.is(closed, 1, 'the session was ended while the SSO ran');
    t.false(landing.url.href.startsWith(RP_REDIRECT), `no code reached the RP (${landing.url.href.slice(0, 120)})`);
    t.is(landing.response.status, 400);
    t.regex(await landing.response.text(), /login_required/);
    t.is((await store.durable.get(sessionKey))?.state, 'ended', 'the session stays ended');
    // the refusal is audited, on the login's own trail
    const audited = async () =>
      (
        await bed.gateway.services.pool.query<{ session_id: string }>(
          "select session_id from audit_log where error_code = 'SESSION_CLOSED_MEANWHILE'",
        )
      ).rows;
    t.true(await eventually(async () => (await audited()).length > 0), 'SESSION_CLOSED_MEANWHILE audited');
    t.is((await audited()).length, 1);
  },
);

/** Another instance's logout ending the session: its end, straight in PostgreSQL (the rows it closed). */
const closeInPostgres = async (bed: SessionBed, sessionKey: Buffer) =>
  (await bed.gateway.services.pool.query('select * from session_records_close($1::bytea[])', [[sessionKey]])).rowCount!;

/**
 * A session bed, a person logged in, and one authorization request (`params`) on that session during which, just
 * before its writes go, `close` runs once if `closeWhen` holds then (another instance's logout or revocation).
 */
async function raceOneRequest(
  t: ExecutionContext,
  race: {
    closeWhen: (store: SessionStore, sessionKey: Buffer) => boolean;
    close: (bed: SessionBed, sessionKey: Buffer, uid: string) => Promise<number>;
    params?: Record<string, string>;
  },
) {
  const bed = await startSessionBed();
  t.teardown(() => bed.stop());
  const session = await logIn(bed);
  const { store } = bed.gateway.services.sessions;
  const found = await runWithRequestMemo(() => store.findSession<{ uid: string }>('sid', session.sid));
  const uid = found!.payload.uid;
  const sessionKey = store.keys.key('Session', uid);
  const holdWrites = store.holdWrites.bind(store);
  let closed = 0;
  store.holdWrites = (work, checksWanted) =>
    holdWrites(async () => {
      const answer = await work();
      if (closed === 0 && race.closeWhen(store, sessionKey)) closed = await race.close(bed, sessionKey, uid);
      return answer;
    }, checksWanted);
  const request = await authorizationRequest(bed.rp, race.params);
  try {
    const landing = await session.browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
    return { bed, store, sessionKey, request, landing, closed };
  } finally {
    store.holdWrites = holdWrites;
  }
}

/** How another instance closes the session while the request runs (the rows it closed, or 1 for a revocation). */
type Closer = (bed: SessionBed, sessionKey: Buffer, uid: string) => Promise<number>;

const closers: Record<string, Closer> = {
  // a logout's end, committed
  'ended by a logout': (bed, sessionKey) => closeInPostgres(bed, sessionKey),
  // an operator's revocation, committed (run outside the request: a revocation forgets the request's reads)
  'revoked by an operator': async (bed, _key, uid) => {
    const { revoker } = bed.gateway.services.sessions;
    await outsideTheRequest(() => revoker.revokeSession({ uid }, { actor: 'operator:test', reason: 'race' }));
    return 1;
  },
  // a logout's end that has closed the row but commits only while the request checks it: the check waits for it
  'ended by a logout still committing': (bed, sessionKey) =>
    commitLater(bed, [['select * from session_records_close($1::bytea[])', [[sessionKey]]]]),
  // a revocation's statements as DurableTier makes them (its head locked, the row closed and the revoked one
  // inserted), committed only while the request checks it: a revocation takes no advisory lock, so the check must
  // wait for its row
  'revoked by an operator still committing': (bed, sessionKey) =>
    commitLater(bed, [
      ['select 1 from session_record_heads where record_key = $1 for update', [sessionKey]],
      [
        `with closed as (update session_records r set valid_to = clock_timestamp()
           where r.record_key = $1 and r.valid_to is null and r.state <> 'revoked' returning ${COLUMNS})
         insert into session_records (${COLUMNS}) select ${REVOKED_SUCCESSOR} from closed`,
        [sessionKey, true],
      ],
    ]),
};

/**
 * Runs `statements` in a transaction on a connection of its own, committed once the request's check waits for it
 * (seen in `pg_stat_activity`: a backend running `session_record_state` waiting on a lock), or after 10 s if none
 * ever does (`waited` then stays false and the test fails). Answers the rows the last statement touched.
 */
async function commitLater(bed: SessionBed, statements: Array<[string, unknown[]]>): Promise<number> {
  const { pool } = bed.gateway.services;
  const client = await pool.connect();
  await client.query('begin');
  let touched = 0;
  for (const [text, values] of statements) touched = (await client.query(text, values)).rowCount ?? 0;
  void (async () => {
    const until = Date.now() + 10_000;
    while (Date.now() < until && !checkWaited.value) {
      const { rowCount } = await pool.query(
        "select 1 from pg_stat_activity where query like '%session_record_state(%' and wait_event_type = 'Lock'",
      );
      if (rowCount) checkWaited.value = true;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.query('commit');
  })().then(
    () => client.release(),
    (error: unknown) => client.release(error instanceof Error ? error : true),
  );
  return touched;
}
/** Whether the last check was seen waiting for the transaction `commitLater` held open. */
const checkWaited = { value: false };

const atLoad = AsyncLocalStorage.snapshot();
const outsideTheRequest = <T>(job: () => Promise<T>): Promise<T> => atLoad(job);

const promptNoneRace = test.macro({
  async exec(t, closedBy: string, responseMode: 'query' | 'fragment') {
    checkWaited.value = false;
    // the prompt=none request saves the session unchanged (nothing held for it); another instance closes it
    const { bed, store, sessionKey, request, landing, closed } = await raceOneRequest(t, {
      closeWhen: (s, key) => s.durable.heldRecord(key) === undefined,
      close: (bed, key, uid) => closers[closedBy]!(bed, key, uid),
      params: { prompt: 'none', response_mode: responseMode },
    });
    t.is(closed, 1, 'the session was closed while the request ran');
    if (closedBy.endsWith('still committing')) t.true(checkWaited.value, 'the check waited for it to commit');
    t.true(landing.url.href.startsWith(RP_REDIRECT), `the answer goes to the RP (${landing.url.href.slice(0, 120)})`);
    const answer = responseMode === 'query' ? landing.url.searchParams : new URLSearchParams(landing.url.hash.slice(1));
    t.is(answer.get('error'), 'login_required');
    t.is(answer.get('state'), request.state);
    t.is(answer.get('iss'), bed.rp.serverMetadata().issuer);
    t.is(answer.get('code'), null, 'no code');
    t.notRegex(answer.get('error_description') ?? '', /revoked|ended|another request/, 'the RP is not told why');
    t.not((await store.durable.get(sessionKey))?.state ?? 'absent', 'active', 'the session stays closed');
    const audited = async () =>
      (await bed.gateway.services.pool.query("select 1 from audit_log where error_code = 'SESSION_CLOSED_MEANWHILE'"))
        .rowCount ?? 0;
    t.true(await eventually(async () => (await audited()) > 0), 'SESSION_CLOSED_MEANWHILE audited');
    t.is(await audited(), 1, 'once');
  },
  title: (_, closedBy: string, responseMode: string) =>
    `a prompt=none request whose unchanged session was ${closedBy} meanwhile gets login_required at the RP (${responseMode})`,
});

test.serial(promptNoneRace, 'ended by a logout', 'query');
test.serial(promptNoneRace, 'ended by a logout', 'fragment');
test.serial(promptNoneRace, 'revoked by an operator', 'query');
test.serial(promptNoneRace, 'ended by a logout still committing', 'query');
test.serial(promptNoneRace, 'revoked by an operator still committing', 'query');

test.serial(
  'a prompt=none request on a session nobody closed still gets its code (the check finds it active)',
  async (t) => {
    const bed = await startSessionBed();
    t.teardown(() => bed.stop());
    const session = await logIn(bed);
    const renew = await authorizationRequest(bed.rp, { prompt: 'none' });
    const renewed = await session.browser.follow(renew.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
    t.truthy(renewed.url.searchParams.get('code'), `a code (${renewed.url.href.slice(0, 120)})`);
  },
);
