/**
 * An operator's note or a refusal's detail is free text: it may hold a lone surrogate (`\ud800`, or half of an
 * emoji a length cut left), which PostgreSQL's jsonb refuses and its text columns store as U+FFFD. The record must
 * still be written — refusing it let a review decision or a revocation take effect without its record — with each
 * lone surrogate written as U+FFFD, in the details (keys and values) and in the other text fields, so that what is
 * stored is what was digested and the chain still verifies. Two keys made alike both stay (the later numbered).
 */
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { verifyAuditChain } from '../../../gateway/audit/verify.ts';
import { genesisOnly } from '../../helpers/audit-anchor.ts';
import { migratedPool } from '../store/fixtures.ts';

test('a lone surrogate is appended as U+FFFD wherever it is, and the chain verifies', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await audit.append({
    sessionId: 'review:\ud800',
    from: 'MANUAL_REVIEW',
    to: 'REVIEW_APPROVED',
    component: 'review',
    details: {
      note: `${'x'.repeat(3)}${'😀'.slice(0, 1)}`,
      nested: { list: ['a\udc00b', 1, null], ['key\ud83d']: true },
      whole: 'an emoji 😀 stays one',
      'same\ud800': 1,
      'same\ufffd': 2,
    },
  });
  const [record] = await audit.forSession('review:\ufffd');
  t.truthy(record, 'found under the session id as stored');
  t.deepEqual(record?.details, {
    note: 'xxx\ufffd',
    nested: { list: ['a\ufffdb', 1, null], ['key\ufffd']: true },
    whole: 'an emoji 😀 stays one',
    'same\ufffd': 1,
    'same\ufffd (2)': 2,
  });
  await audit.close();
  const report = await verifyAuditChain(pool, genesisOnly([]));
  t.deepEqual(report.findings, [], 'what is stored is what was digested');
});
