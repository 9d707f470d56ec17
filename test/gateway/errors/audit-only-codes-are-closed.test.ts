/**
 * Audit-only codes are a closed table too (issue #11 item 3): every code an audit record or a flow
 * transition carries is a registered error code or a row of `gateway/audit-codes.ts`, with an audit outcome
 * and a meaning; the two tables are disjoint; a free string does not type-check; every `errorCode: '...'`
 * written in gateway/ is in one of them.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIT_ONLY, AUDIT_ONLY_CODES, isAuditErrorCode } from '../../../gateway/audit-codes.ts';
import type { AuditRecord } from '../../../gateway/audit/audit-log.ts';
import type { TransitionMeta } from '../../../gateway/flow/login-flow.ts';
import { ERROR_CODES } from '../../../gateway/error-registry.ts';
import { denialCode } from '../../../gateway/policy/decide.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUTCOMES = new Set(['refused', 'denied', 'error']);

for (const code of AUDIT_ONLY) {
  test(`audit-only row of ${code}`, (t) => {
    const spec = AUDIT_ONLY_CODES[code];
    t.true(OUTCOMES.has(spec.audit), `audit ${spec.audit}`);
    t.true(spec.meaning.trim().length > 10);
    t.regex(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    t.false((ERROR_CODES as readonly string[]).includes(code), 'an audit-only code is not also an error code');
  });
}

test('the audit codes the brief named are rows of the closed table', (t) => {
  for (const code of ['SESSION_REVOKED', 'SESSION_VERSION_STALE', 'REFRESH_TOKEN_REUSED', 'RISK_TOO_HIGH'])
    t.true(isAuditErrorCode(code), code);
  t.true(isAuditErrorCode('POLICY_DENIED'), 'a registered error code is an audit code');
  t.false(isAuditErrorCode('device:unfamiliar'));
  t.false(isAuditErrorCode('NOT_A_CODE'));
});

test('a free string is not an audit code for the type checker', (t) => {
  const record: AuditRecord = {
    sessionId: 's',
    from: null,
    to: 'FAILED',
    component: 'test',
    // @ts-expect-error a free string is not an audit code (make test's typecheck fails if it becomes one)
    errorCode: 'SOMETHING_FREE',
  };
  // @ts-expect-error the flow's transitions take the same closed union
  const meta: TransitionMeta = { component: 'test', errorCode: 'SOMETHING_FREE' };
  t.is(record.errorCode, meta.errorCode);
});

test('a denied login is recorded with its first reason, a registered code, or refused as an error', (t) => {
  t.is(denialCode({ kind: 'deny', requiredAcr: 'eidas2', reasons: ['RISK_TOO_HIGH', 'ip:listed'] }), 'RISK_TOO_HIGH');
  t.is(denialCode({ kind: 'deny', requiredAcr: 'eidas2', reasons: ['LOA_INSUFFICIENT'] }), 'LOA_INSUFFICIENT');
  t.is(denialCode({ kind: 'deny', requiredAcr: 'eidas2', reasons: [] }), 'POLICY_DENIED');
  t.throws(() => denialCode({ kind: 'deny', requiredAcr: 'eidas2', reasons: ['device:unfamiliar'] }), {
    instanceOf: TypeError,
  });
});

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

test('every errorCode written as a literal in gateway/ is in one of the closed tables', (t) => {
  const problems: string[] = [];
  let seen = 0;
  for (const file of sources('gateway')) {
    for (const match of readFileSync(file, 'utf8').matchAll(/errorCode: '([A-Z0-9_]+)'/g)) {
      seen++;
      if (!isAuditErrorCode(match[1]!)) problems.push(`${file}: ${match[1]} is in no table`);
    }
  }
  t.true(seen >= 8, `only ${seen} literals found: the pattern no longer matches the sources`);
  t.deepEqual(problems, []);
});
