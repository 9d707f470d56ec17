/**
 * An IdP's LogoutRequest naming several gateway sessions (`UpstreamSessions.end`): one failing to end does not
 * leave the others alive, and the count of those ended is not lost — `SessionsPartlyEnded` carries it (the
 * gateway audits it as `sessions`, with the failure's code), never an error that says nothing was ended.
 */
import test from 'ava';
import * as upstreamSessions from '../../../gateway/session/upstream-sessions.ts';
import type { SessionStore } from '../../../gateway/session/session-store.ts';

/** A store holding one NameID's three logins, each put into its own gateway session. */
function storeOfThreeLogins(): SessionStore {
  const records = new Map<string, unknown>([
    ['subject\0idp-a\0persistent\0ada', { logins: [{ loginId: 'l1' }, { loginId: 'l2' }, { loginId: 'l3' }] }],
    ['login\0l1', { idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionUid: 's1' }],
    ['login\0l2', { idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionUid: 's2' }],
    ['login\0l3', { idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionUid: 's3' }],
  ]);
  return {
    get: async (_kind: string, id: string) =>
      records.has(id) ? { record: { state: 'active' }, payload: records.get(id) } : null,
  } as unknown as SessionStore;
}

test('one session failing to end: the others are ended and the count of those ended is kept', async (t) => {
  const tried: string[] = [];
  const sessions = new upstreamSessions.UpstreamSessions({
    store: storeOfThreeLogins(),
    revoker: {
      revokeSession: async ({ uid }: { uid: string }) => {
        tried.push(uid);
        if (uid === 's2') throw new Error('Connection terminated unexpectedly');
        return { sessions: 1 };
      },
    } as never,
    ttlSeconds: 60,
  });
  const error = await t.throwsAsync(
    sessions.end({ idp: 'idp-a', subject: 'ada', nameIdFormat: 'persistent', sessionIndexes: [] }),
  );
  t.deepEqual(tried, ['s1', 's2', 's3'], 'every named session is tried');
  t.is(error?.name, 'SessionsPartlyEnded');
  t.like(error, { ended: 2, failed: 1 });
  t.regex(String((error?.cause as Error | undefined)?.message), /Connection terminated/);
});
