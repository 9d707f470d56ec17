/**
 * An IdP's LogoutRequest naming several gateway sessions (`UpstreamSessions.end`), over the gateway's own session
 * store (PostgreSQL and Redis):
 *
 * - every login of the NameID is found, even when they were recorded at the same instant (each login writes its
 *   own record; a list read, appended to and written back lost one, whose session outlived the IdP's logout);
 * - its SessionIndexes name exactly their logins, and another NameID's logins are not touched;
 * - one session failing to end does not leave the others alive, and the count of those ended is not lost:
 *   `SessionsPartlyEnded` carries it (the gateway audits it as `sessions`, with the failure's code);
 * - a step-up on a session (a login of the same person on it, perhaps at another IdP) keeps the earlier logins
 *   findable by their IdPs' logouts for the new login's life: the session now lives from the new login on.
 */
import test from 'ava';
import type { UpstreamSessionRef } from '../../../adapters/contract.ts';
import { UpstreamSessions } from '../../../gateway/session/upstream-sessions.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(() => fx?.stop());

const ada = (sessionIndex: string) => ({ idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionIndex });

/** The upstream sessions over the gateway's store, with a revoker recording (or failing) what it is asked to end. */
function upstreamSessions(fail: (uid: string) => boolean = () => false, ttlSeconds = 60) {
  const tried: string[] = [];
  const sessions = new UpstreamSessions({
    store: fx.gateway.services.sessions.store,
    revoker: {
      revokeSession: async ({ uid }: { uid: string }) => {
        tried.push(uid);
        if (fail(uid)) throw new Error('Connection terminated unexpectedly');
        return { sessions: 1 };
      },
    } as never,
    ttlSeconds,
  });
  return { sessions, tried };
}

test('logins of one NameID recorded at the same instant are all ended by its logout', async (t) => {
  const { sessions, tried } = upstreamSessions();
  const logins = Array.from({ length: 12 }, (_, i) => `same-instant-${i}`);
  await Promise.all(logins.map((id) => sessions.recordLogin(id, { ...ada(`si-${id}`), subject: 'erin' })));
  await Promise.all(logins.map((id) => sessions.linkSession(id, `session-of-${id}`)));

  const ended = await sessions.end({ idp: 'idp-a', subject: 'erin', nameIdFormat: 'persistent', sessionIndexes: [] });
  t.deepEqual(tried.sort(), logins.map((id) => `session-of-${id}`).sort(), 'not one login lost');
  t.is(ended, logins.length);
});

test('the SessionIndexes name exactly their logins; another NameID or IdP is not touched', async (t) => {
  const { sessions, tried } = upstreamSessions();
  await sessions.recordLogin('named-1', ada('idx-1'));
  await sessions.recordLogin('named-2', ada('idx-2'));
  await sessions.recordLogin('other-person', { ...ada('idx-1'), subject: 'bob' });
  await sessions.recordLogin('other-idp', { ...ada('idx-1'), idp: 'idp-b' });
  for (const id of ['named-1', 'named-2', 'other-person', 'other-idp']) await sessions.linkSession(id, `s-${id}`);

  await sessions.end({ idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionIndexes: ['idx-1'] });
  t.deepEqual(tried, ['s-named-1']);
});

test('a login not yet put into a session is found but ends nothing', async (t) => {
  const { sessions, tried } = upstreamSessions();
  await sessions.recordLogin('unlinked', { ...ada('idx-u'), subject: 'carol' });
  t.is(await sessions.end({ idp: 'idp-a', subject: 'carol', nameIdFormat: 'persistent', sessionIndexes: [] }), 0);
  t.deepEqual(tried, []);
});

test('one session failing to end: the others are ended and the count of those ended is kept', async (t) => {
  const { sessions, tried } = upstreamSessions((uid) => uid === 's2');
  for (const n of [1, 2, 3]) {
    await sessions.recordLogin(`dave-${n}`, { ...ada(`d${n}`), subject: 'dave' });
    await sessions.linkSession(`dave-${n}`, `s${n}`);
  }
  const error = await t.throwsAsync(
    sessions.end({ idp: 'idp-a', subject: 'dave', nameIdFormat: 'persistent', sessionIndexes: [] }),
  );
  t.deepEqual(tried.sort(), ['s1', 's2', 's3'], 'every named session is tried');
  t.is(error?.name, 'SessionsPartlyEnded');
  t.like(error, { ended: 2, failed: 1 });
  t.regex(String((error?.cause as Error | undefined)?.message), /Connection terminated/);
});

test('a subject list written by an earlier version still names its logins until it expires', async (t) => {
  const { sessions, tried } = upstreamSessions();
  const store = fx.gateway.services.sessions.store;
  const legacy = { idp: 'idp-a', subject: 'frank', nameIdFormat: 'persistent', sessionIndex: 'f1' };
  // a login an instance of a version before the sixteenth round recorded: no group, only its subject's list
  await store.putMany([
    { kind: 'UpstreamSession', id: 'login\0legacy-1', payload: { ...legacy, sessionUid: 's-legacy' }, expiresIn: 60 },
    {
      kind: 'UpstreamSession',
      id: 'subject\0idp-a\0persistent\0frank',
      payload: { logins: [{ loginId: 'legacy-1', sessionIndex: 'f1' }] },
      expiresIn: 60,
    },
  ]);
  t.is(await sessions.end({ idp: 'idp-a', subject: 'frank', nameIdFormat: 'persistent', sessionIndexes: ['f1'] }), 1);
  t.deepEqual(tried, ['s-legacy']);
});

test('a login writes only its own record: no subject list, and the logout still finds it', async (t) => {
  const { sessions, tried } = upstreamSessions();
  const store = fx.gateway.services.sessions.store;
  const ref = { ...ada('g1'), subject: 'gina' };
  await sessions.recordLogin('only-1', ref);
  await sessions.linkSession('only-1', 's-only');
  t.is(
    await store.get('UpstreamSession', 'subject\0idp-a\0persistent\0gina'),
    null,
    'the list of the versions before the sixteenth round is not written',
  );
  t.is(await sessions.end({ idp: 'idp-a', subject: 'gina', nameIdFormat: 'persistent', sessionIndexes: [] }), 1);
  t.deepEqual(tried, ['s-only']);
});

/** The earlier logins a session's logout asks after its latest's. */
async function earlierOf(sessions: UpstreamSessions, uid: string): Promise<string[] | string | null> {
  const found = await sessions.logoutsOf(uid);
  return found === null || found === 'another-person' ? found : found.earlier;
}

/** A login of `account` into a session that stood before it (`stoodBefore`), its interaction begun elsewhere. */
const into = (account: string, stoodBefore: boolean) => ({ account, stoodBefore, beganOnIt: false });
const hugo = (stoodBefore: boolean) => into('hugo', stoodBefore);

test("a step-up at another IdP keeps the first login findable by the first IdP's logout after that login's life", async (t) => {
  // the first login's records live 1 s; the step-up's an hour
  const first = upstreamSessions(() => false, 1);
  const later = upstreamSessions(() => false, 3600);
  const atA = { idp: 'idp-a', subject: 'hugo', nameIdFormat: 'persistent', sessionIndex: 'h1' };
  const atB = { idp: 'idp-b', subject: 'hugo-at-b', nameIdFormat: 'persistent', sessionIndex: 'h2' };
  await first.sessions.recordLogin('step-1', atA);
  await first.sessions.linkSession('step-1', 's-step', hugo(false));
  // a login of the same subject at A linked to another session is not this session's to keep
  await first.sessions.recordLogin('elsewhere-1', { ...atA, sessionIndex: 'h9' });
  await first.sessions.linkSession('elsewhere-1', 's-elsewhere');
  await later.sessions.recordLogin('step-2', atB);
  await later.sessions.linkSession('step-2', 's-step', hugo(true));
  await new Promise((resolve) => setTimeout(resolve, 2_100)); // past the first login's own life
  t.deepEqual(
    await later.sessions.logoutsOf('s-step'),
    { latest: atB, earlier: ['step-1'] },
    "the session's logout asks the latest login's IdP, then the first's",
  );
  t.is(await later.sessions.end({ idp: 'idp-a', subject: 'hugo', nameIdFormat: 'persistent', sessionIndexes: [] }), 1);
  t.deepEqual(later.tried, ['s-step'], "the first IdP's logout ends the stepped-up session, and only it");
  // without the step-up flag (a login on a new session) nothing earlier is kept
  await first.sessions.recordLogin('plain-1', { ...atA, subject: 'ines', sessionIndex: 'i1' });
  await first.sessions.linkSession('plain-1', 's-plain');
  await later.sessions.recordLogin('plain-2', { ...atB, subject: 'ines-at-b', sessionIndex: 'i2' });
  await later.sessions.linkSession('plain-2', 's-plain');
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  t.is(await later.sessions.end({ idp: 'idp-a', subject: 'ines', nameIdFormat: 'persistent', sessionIndexes: [] }), 0);
  t.deepEqual(await later.sessions.logoutsOf('s-plain'), {
    latest: { ...atB, subject: 'ines-at-b', sessionIndex: 'i2' },
    earlier: [],
  });
});

test("a session's logout asks each upstream session once, newest login first, only those still linked to it", async (t) => {
  const { sessions } = upstreamSessions();
  const at = (idp: string, sessionIndex: string) => ({
    idp,
    subject: 'jules',
    nameIdFormat: 'persistent',
    sessionIndex,
  });
  // logins on one session: A, then D, then B, then A again in a new session there, then C, then C again in the same
  const logins: Array<[string, ReturnType<typeof at>]> = [
    ['chain-1', at('idp-a', 'j1')],
    ['chain-moved', at('idp-d', 'j9')],
    ['chain-2', at('idp-b', 'j2')],
    ['chain-3', at('idp-a', 'j3')],
    ['chain-4', at('idp-c', 'j4')],
    ['chain-5', at('idp-c', 'j4')],
  ];
  for (const [i, [id, ref]] of logins.entries()) {
    await sessions.recordLogin(id, ref);
    await sessions.linkSession(id, 's-chain', into('jules', i > 0));
  }
  // the login at D is now another session's: not this session's to end
  await sessions.linkSession('chain-moved', 's-chain-other', into('jules', false));
  t.deepEqual(
    await sessions.logoutsOf('s-chain'),
    { latest: at('idp-c', 'j4'), earlier: ['chain-3', 'chain-2', 'chain-1'] },
    'C (once: its two logins share a SessionIndex), then A’s newer session, B, and A’s first one; not D',
  );
  t.deepEqual(await sessions.loginOf('chain-3', 's-chain'), at('idp-a', 'j3'));
  t.is(await sessions.loginOf('chain-3', 's-other'), null, "another session's logout cannot ask for this login");
  t.is(await sessions.loginOf('chain-moved', 's-chain'), null);
  t.is(await sessions.logoutsOf('s-none'), null, 'a session that stood on no upstream login');
});

test('a login with no SessionIndex is asked once for every session of its NameID at that IdP', async (t) => {
  const { sessions } = upstreamSessions();
  const whole = { idp: 'idp-a', subject: 'kim', nameIdFormat: 'persistent' };
  await sessions.recordLogin('whole-1', { ...whole, sessionIndex: 'k1' });
  await sessions.linkSession('whole-1', 's-whole', into('kim', false));
  await sessions.recordLogin('whole-2', {
    idp: 'idp-b',
    subject: 'kim',
    nameIdFormat: 'persistent',
    sessionIndex: 'k2',
  });
  await sessions.linkSession('whole-2', 's-whole', into('kim', true));
  await sessions.recordLogin('whole-3', whole);
  await sessions.linkSession('whole-3', 's-whole', into('kim', true));
  t.deepEqual(await sessions.logoutsOf('s-whole'), { latest: whole, earlier: ['whole-2'] });
  // the other order: the request without SessionIndex is an earlier login's, the one with it a newer one's
  const older = { idp: 'idp-a', subject: 'lou', nameIdFormat: 'persistent' };
  const steps: Array<[string, UpstreamSessionRef]> = [
    ['order-1', older],
    ['order-2', { ...older, sessionIndex: 'l2' }],
    ['order-3', { idp: 'idp-b', subject: 'lou', nameIdFormat: 'persistent', sessionIndex: 'l3' }],
  ];
  for (const [i, [id, ref]] of steps.entries()) {
    await sessions.recordLogin(id, ref);
    await sessions.linkSession(id, 's-order', into('lou', i > 0));
  }
  t.deepEqual(
    await earlierOf(sessions, 's-order'),
    ['order-1'],
    'A once, by the request that ends every session there',
  );
});

test("another person's logins on the session are never kept, nor asked at its logout", async (t) => {
  const { sessions, tried } = upstreamSessions();
  const ann = { idp: 'idp-a', subject: 'ann', nameIdFormat: 'persistent', sessionIndex: 'a1' };
  const bob = { idp: 'idp-b', subject: 'bob', nameIdFormat: 'persistent', sessionIndex: 'b1' };
  // two tabs log two people in on one stored session at once: ann's login is linked first, then bob's
  await sessions.recordLogin('tab-ann', ann);
  await sessions.linkSession('tab-ann', 's-tabs', into('ann', true));
  await sessions.recordLogin('tab-bob', bob);
  await sessions.linkSession('tab-bob', 's-tabs', into('bob', true));
  t.deepEqual(await sessions.logoutsOf('s-tabs', 'bob'), { latest: bob, earlier: [] }, "bob's logout never names ann");
  // the other order: ann's link written last, while the session saved last is bob's
  await sessions.linkSession('tab-ann', 's-tabs', into('ann', true));
  t.is(await sessions.logoutsOf('s-tabs', 'bob'), 'another-person', "bob's logout asks no IdP of ann's");
  t.deepEqual(await sessions.logoutsOf('s-tabs', 'ann'), { latest: ann, earlier: [] });
  // a session's record written before it named its person: its logins are kept only for the interaction begun on it
  await sessions.recordLogin('legacy-1', { ...ann, sessionIndex: 'a2' });
  await sessions.linkSession('legacy-1', 's-legacy');
  await sessions.recordLogin('legacy-2', { ...bob, subject: 'ann', sessionIndex: 'b2' });
  await sessions.linkSession('legacy-2', 's-legacy', into('ann', true));
  t.deepEqual(await earlierOf(sessions, 's-legacy'), [], 'not proven the same person');
  await sessions.recordLogin('legacy-3', { ...bob, subject: 'ann', sessionIndex: 'b3' });
  await sessions.recordLogin('legacy-4', { ...ann, sessionIndex: 'a4' });
  await sessions.linkSession('legacy-4', 's-legacy-2');
  await sessions.linkSession('legacy-3', 's-legacy-2', { account: 'ann', stoodBefore: true, beganOnIt: true });
  t.deepEqual(await earlierOf(sessions, 's-legacy-2'), ['legacy-4'], 'the interaction began on it');
  t.deepEqual(tried, []);
});

for (const annLinkedLast of [false, true]) {
  test(`an IdP's logout never ends a session another person's login was saved into last (ann linked ${annLinkedLast ? 'last' : 'first'})`, async (t) => {
    const { sessions, tried } = upstreamSessions();
    const store = fx.gateway.services.sessions.store;
    const uid = `s-race-${annLinkedLast}`;
    const ann = { idp: 'idp-a', subject: `ann-${uid}`, nameIdFormat: 'persistent', sessionIndex: 'r1' };
    const bob = { idp: 'idp-b', subject: `bob-${uid}`, nameIdFormat: 'persistent', sessionIndex: 'r2' };
    // two tabs, two people, one browser: both logins are linked to the session, whose save that landed last is
    // bob's, whichever link was written last
    await sessions.recordLogin(`${uid}-ann`, ann);
    await sessions.recordLogin(`${uid}-bob`, bob);
    const links: Array<[string, string]> = [
      [`${uid}-ann`, 'ann'],
      [`${uid}-bob`, 'bob'],
    ];
    for (const [id, account] of annLinkedLast ? links.reverse() : links)
      await sessions.linkSession(id, uid, into(account, true));
    await store.put({
      kind: 'Session',
      id: uid,
      payload: { uid, kind: 'Session', accountId: 'bob', authorizations: {} },
      expiresIn: 60,
      lookupId: `${uid}-cookie`,
      sids: [],
      accountId: 'bob',
    });
    const byAnnsIdp = { idp: 'idp-a', subject: ann.subject, nameIdFormat: 'persistent', sessionIndexes: [] };
    t.is(await sessions.end(byAnnsIdp), 0, "ann's IdP ends no session of bob's (the token guard refuses her tokens)");
    t.deepEqual(tried, []);
    const byBobsIdp = { idp: 'idp-b', subject: bob.subject, nameIdFormat: 'persistent', sessionIndexes: [] };
    t.is(await sessions.end(byBobsIdp), 1);
    t.deepEqual(tried, [uid], "bob's IdP ends bob's session");
  });
}

test('a login whose session is not found (or names no person) is ended as before', async (t) => {
  const { sessions, tried } = upstreamSessions();
  const cy = { idp: 'idp-a', subject: 'cy-race', nameIdFormat: 'persistent', sessionIndex: 'c1' };
  await sessions.recordLogin('race-cy', cy);
  await sessions.linkSession('race-cy', 's-no-record', into('cy', false));
  t.is(await sessions.end({ idp: 'idp-a', subject: 'cy-race', nameIdFormat: 'persistent', sessionIndexes: [] }), 1);
  t.deepEqual(tried, ['s-no-record']);
});
