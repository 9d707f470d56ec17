/**
 * A reused refresh token ends its family's grant, and revokes its session unless that session now names another
 * person (`refresh-reuse.ts`). When the session's person cannot be read (PostgreSQL not answering), the reuse fails
 * closed: the session is revoked as before (the revocation API queues it while PostgreSQL is down), and the audit
 * record says the person was unread. An audit that fails still leaves nothing of the family standing.
 * The revoker and the audit log are recorded here (the PostgreSQL failure is the case under test; the real ones
 * are exercised in `a-token-on-a-session-now-another-persons-is-refused.test.ts`).
 */
import test from 'ava';
import { Registry } from 'prom-client';
import { RefreshReuse, REFRESH_TOKEN_REUSED } from '../../../gateway/session/refresh-reuse.ts';

function reuseWith(sessionPerson: () => Promise<Buffer | null>, auditFails = false, grantEndFails = false) {
  const revoked: string[] = [];
  const ended: string[] = [];
  const audited: Array<Record<string, unknown>> = [];
  const reuse = new RefreshReuse({
    registry: new Registry(),
    sessionPerson,
    revoker: {
      revokeSession: async (ref) => {
        revoked.push((ref as { uid: string }).uid);
        return { id: 'r1', sessions: 1, records: [] } as never;
      },
    },
    audit: {
      append: async (entry) => {
        if (auditFails) throw new Error('audit spool failing');
        audited.push(entry as unknown as Record<string, unknown>);
        return undefined as never;
      },
    },
    grants: {
      end: async (grantId) => {
        if (grantEndFails) throw new Error('grant end failing');
        ended.push(grantId);
      },
    },
  });
  return { reuse, revoked, ended, audited };
}

const token = { sessionUid: 'sess-1', clientId: 'rp', grantId: 'grant-1', rotations: 2 };

test('a reuse whose session person cannot be read revokes the session, audited as unread', async (t) => {
  const bed = reuseWith(() => Promise.reject(new Error('PostgreSQL down')));
  await bed.reuse.reused(token, Buffer.from('ann'));
  t.deepEqual(bed.revoked, ['sess-1']);
  t.deepEqual(bed.ended, ['grant-1']);
  t.is(bed.audited[0]?.errorCode, REFRESH_TOKEN_REUSED);
  t.like(bed.audited[0]?.details, { ends: 'grant and session', sessionPersonUnread: true });
});

test("a reuse on a session now another person's ends the grant, not the session", async (t) => {
  const bed = reuseWith(() => Promise.resolve(Buffer.from('bob')));
  await bed.reuse.reused(token, Buffer.from('ann'));
  t.deepEqual(bed.revoked, []);
  t.deepEqual(bed.ended, ['grant-1']);
  t.like(bed.audited[0]?.details, { ends: 'grant', sessionOfAnotherPerson: true });
});

test("a reuse on the token's person's session, or one naming nobody, revokes it", async (t) => {
  for (const person of [Buffer.from('ann'), null]) {
    const bed = reuseWith(() => Promise.resolve(person));
    await bed.reuse.reused(token, Buffer.from('ann'));
    t.deepEqual(bed.revoked, ['sess-1']);
    t.deepEqual(bed.ended, ['grant-1']);
  }
});

test('a reuse whose audit fails still ends the family and the session, and fails', async (t) => {
  const bed = reuseWith(() => Promise.resolve(Buffer.from('ann')), true);
  await t.throwsAsync(bed.reuse.reused(token, Buffer.from('ann')), { message: 'audit spool failing' });
  t.deepEqual(bed.revoked, ['sess-1']);
  t.deepEqual(bed.ended, ['grant-1']);
});

test("a reuse whose grant end fails still revokes the token's person's session, and fails", async (t) => {
  const bed = reuseWith(() => Promise.resolve(Buffer.from('ann')), false, true);
  await t.throwsAsync(bed.reuse.reused(token, Buffer.from('ann')), { message: 'grant end failing' });
  t.deepEqual(bed.revoked, ['sess-1']);
});
