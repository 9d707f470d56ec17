/**
 * A refusal's audit record quotes the hostile input it refused (a SigAlg, an issuer, a detail); PostgreSQL's
 * jsonb cannot hold a NUL character. The record of such a refusal must still be written — refusing it turned
 * the refusal into a 500 `AUDIT_INVALID_RECORD` — with each NUL written as the visible text `U+0000`, and text
 * that merely reads `\u0000` (a backslash and five characters) kept as it is.
 */
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { migratedPool } from '../store/fixtures.ts';

test('details holding a NUL are appended with U+0000 in its place; the text \\u0000 is kept', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await audit.append({
    sessionId: 'request:nul',
    from: null,
    to: 'REJECTED',
    component: 'saml',
    errorCode: 'SAML_ALG_NOT_ALLOWED',
    details: {
      detail: 'SigAlg http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\u0000',
      nested: { list: ['a\u0000b', 1, null], ['key\u0000']: true },
      literal: 'a backslash then u0000: \\u0000',
    },
  });
  const [record] = await audit.forSession('request:nul');
  t.deepEqual(record?.details, {
    detail: 'SigAlg http://www.w3.org/2001/04/xmldsig-more#rsa-sha256U+0000',
    nested: { list: ['aU+0000b', 1, null], ['keyU+0000']: true },
    literal: 'a backslash then u0000: \\u0000',
  });
  t.is(record?.errorCode, 'SAML_ALG_NOT_ALLOWED');
});
