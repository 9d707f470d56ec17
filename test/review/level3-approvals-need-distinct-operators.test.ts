/**
 * Issue #10 item 13 — a level-3 review needs `level3Approvals` distinct operators, and the store decides it
 * in one UPDATE, so concurrent approvals count exactly: two operators at the same moment approve it once;
 * one operator clicking twice at the same moment counts once (REVIEW_SAME_OPERATOR for the other); a
 * level-2 review needs one approval; one denial denies. Every step is audited with the operator's name.
 */
import test from 'ava';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { ReviewStore } from '../../gateway/review/review-store.ts';
import { createPool } from '../../gateway/store/postgres.ts';
import { freshDatabase } from '../helpers/services.ts';

const pool = createPool(await freshDatabase());
const reviews = new ReviewStore(pool, new AuditLog(pool));
test.after.always(async () => {
  await pool.end();
});

let n = 0;
async function queued(level: number): Promise<string> {
  const loginId = `login-${level}-${(n += 1)}`;
  await reviews.enqueue({
    loginId,
    clientId: 'rp',
    idp: 'idp',
    accountId: 'acct',
    score: 0.9,
    reasons: ['RISK_REVIEW'],
    level,
  });
  return loginId;
}
const codeOf = (result: PromiseSettledResult<unknown>) =>
  result.status === 'rejected' ? (result.reason as GatewayError).code : 'ok';
async function trail(loginId: string): Promise<Array<{ to: string; operator: string }>> {
  const { rows } = await pool.query<{ to_state: string; details: { operator?: string } }>(
    'select to_state, details from audit_log where session_id = $1 and component = $2 order by id',
    [loginId, 'review'],
  );
  return rows.map((r) => ({ to: r.to_state, operator: r.details.operator ?? '' }));
}

test('two operators approving a level-3 review at the same moment approve it exactly once', async (t) => {
  const loginId = await queued(3);
  const results = await Promise.allSettled([
    reviews.decide(loginId, 'approved', 'alice', undefined, 2),
    reviews.decide(loginId, 'approved', 'bob', undefined, 2),
  ]);
  t.deepEqual(results.map(codeOf), ['ok', 'ok']);
  const item = await reviews.get(loginId);
  t.is(item?.status, 'approved');
  t.deepEqual([...(item?.approvals ?? [])].sort(), ['alice', 'bob']);
  t.deepEqual((await trail(loginId)).map((r) => r.to).sort(), [
    'REVIEW_APPROVAL_RECORDED',
    'REVIEW_APPROVED',
    'REVIEW_QUEUED',
  ]);
});

test('one operator approving twice at the same moment counts once: the review still waits for another', async (t) => {
  const loginId = await queued(3);
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => reviews.decide(loginId, 'approved', 'alice', undefined, 2)),
  );
  t.deepEqual(results.map(codeOf).sort(), [
    'REVIEW_SAME_OPERATOR',
    'REVIEW_SAME_OPERATOR',
    'REVIEW_SAME_OPERATOR',
    'REVIEW_SAME_OPERATOR',
    'ok',
  ]);
  t.like(await reviews.get(loginId), { status: 'pending', approvals: ['alice'] });
});

test('a level-2 review needs one approval; with level3Approvals 1 so does a level-3 one', async (t) => {
  t.like(await reviews.decide(await queued(2), 'approved', 'alice', undefined, 2), {
    status: 'approved',
    decidedBy: 'alice',
  });
  t.like(await reviews.decide(await queued(3), 'approved', 'alice', undefined, 1), { status: 'approved' });
});

test('one denial denies a level-3 review, even after an approval; the audit names each operator', async (t) => {
  const loginId = await queued(3);
  await reviews.decide(loginId, 'approved', 'alice', undefined, 2);
  t.like(await reviews.decide(loginId, 'denied', 'bob', 'called back: not them', 2), {
    status: 'denied',
    decidedBy: 'bob',
  });
  const late = await t.throwsAsync(reviews.decide(loginId, 'approved', 'carol', undefined, 2), {
    instanceOf: GatewayError,
  });
  t.is(late?.code, 'REVIEW_NOT_PENDING');
  t.deepEqual((await trail(loginId)).slice(1), [
    { to: 'REVIEW_APPROVAL_RECORDED', operator: 'alice' },
    { to: 'REVIEW_DENIED', operator: 'bob' },
  ]);
});
