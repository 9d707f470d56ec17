/**
 * The hash-chained audit log and `audit verify`: an intact chain verifies; an edited, deleted, inserted
 * record, a chain rewritten by someone who controls the database, and a truncated tail are each found,
 * with the code and the sequence number where. Checkpoints are signed in the HSM (ES384 audit key) and
 * anchored in a file outside the database; verify trusts only the operator's keys and that anchor
 * (issue #10 item 14: a chain starting at a database checkpoint, or a checkpoint signed by a key stored
 * beside it, no longer verifies).
 * Tampering is done as an attacker with full database access would: triggers switched off.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import type { Pool } from 'pg';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { chainHash, recordDigest } from '../../../gateway/audit/canonical.ts';
import { takeCheckpoint } from '../../../gateway/audit/checkpoint.ts';
import { verifyAuditChain } from '../../../gateway/audit/verify.ts';
import { readAnchor } from '../../../gateway/audit/anchor.ts';
import { anchorFilePath, genesisOnly } from '../../helpers/audit-anchor.ts';
import { exportJWK, generateKeyPair, CompactSign } from 'jose';
import { ensureKeys, openKeyStore, type TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { freshToken } from '../../helpers/services.ts';
import { migratedPool } from '../store/fixtures.ts';

const token = freshToken();
let keys: TokenKeyStore;
test.before(async () => {
  keys = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin });
  await ensureKeys(keys, [{ purpose: 'audit', alg: 'ES384' }]);
});
test.after.always(async () => {
  await keys?.close();
});

const trusted = () => [keys.activeSigner('audit').publicJwk as never];
/** Verify as the operator does: trusted keys and the anchor file (or the genesis only when none exists). */
async function verifyWith(pool: Pool, anchorFile?: string) {
  return verifyAuditChain(
    pool,
    anchorFile ? { trustedKeys: trusted(), anchor: readAnchor(anchorFile) } : genesisOnly(trusted()),
  );
}

async function chain(n = 10): Promise<Pool> {
  const pool = await migratedPool();
  const audit = new AuditLog(pool);
  for (let i = 0; i < n; i += 1) {
    await audit.append({
      sessionId: `s${i % 3}`,
      from: i === 0 ? null : 'INITIATED',
      to: 'AUTHENTICATING',
      component: 'flow',
      details: { i, nested: { b: 1, a: [i] } },
    });
  }
  return pool;
}

/** Runs SQL as an attacker who switched the triggers off. */
async function tamper(pool: Pool, ...statements: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('set session_replication_role = replica');
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.query('reset session_replication_role');
    client.release();
  }
}

/**
 * What an attacker with the database runs to rewrite the chain consistently: record `seq` set to COMPLETED, its
 * digest and every hash from there recomputed. The statements, and the new head hash.
 */
async function rewrittenFrom(pool: Pool, seq: string): Promise<{ statements: string[]; head: Buffer }> {
  const { rows } = await pool.query(
    'select seq::text as seq, record_id::text as record_id, at, session_id, from_state, to_state, component, error_code, request_id, details, prev_hash from audit_log order by audit_log.seq',
  );
  const statements: string[] = [];
  let prev: Buffer = rows[0].prev_hash;
  for (const row of rows) {
    const to = row.seq === seq ? 'COMPLETED' : row.to_state;
    const digest = recordDigest({
      recordId: row.record_id,
      at: row.at,
      sessionId: row.session_id,
      from: row.from_state,
      to,
      component: row.component,
      errorCode: row.error_code,
      requestId: row.request_id,
      details: row.details,
    });
    const hash = chainHash(prev, digest);
    statements.push(
      `update audit_log set to_state = '${to}', digest = '\\x${digest.toString('hex')}', prev_hash = '\\x${prev.toString('hex')}', hash = '\\x${hash.toString('hex')}' where seq = ${row.seq}`,
    );
    prev = hash;
  }
  return { statements, head: prev };
}

test('an intact chain with a signed checkpoint verifies', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  const anchor = anchorFilePath();
  const checkpoint = await takeCheckpoint(pool, keys.activeSigner('audit'), anchor);
  t.is(checkpoint?.seq, '10');
  t.regex(checkpoint!.jws, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  t.is(await takeCheckpoint(pool, keys.activeSigner('audit'), anchor), null, 'nothing new since: no second checkpoint');
  t.deepEqual(
    readAnchor(anchor).checkpoints.map((c) => c.seq),
    ['10'],
    'anchored outside the database',
  );
  const report = await verifyWith(pool, anchor);
  t.deepEqual(report.findings, []);
  t.like(report, { ok: true, records: 10, checkpoints: 1 });
});

test('an edited record is AUDIT_RECORD_EDITED at its sequence number', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  await tamper(pool, "update audit_log set to_state = 'COMPLETED' where seq = 3");
  const report = await verifyWith(pool);
  t.false(report.ok);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [['AUDIT_RECORD_EDITED', '3']],
  );
});

test('a deleted record is AUDIT_SEQ_GAP where the chain resumes', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  await tamper(pool, 'delete from audit_log where seq = 5');
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [
      ['AUDIT_SEQ_GAP', '6'],
      ['AUDIT_CHAIN_BROKEN', '6'],
    ],
  );
});

test('an inserted row without a chain position is AUDIT_RECORD_UNCHAINED', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  await tamper(pool, "insert into audit_log (session_id, to_state, component) values ('s1', 'COMPLETED', 'oidc')");
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => f.code),
    ['AUDIT_RECORD_UNCHAINED'],
  );
});

test('a chain rewritten consistently by someone with the database is caught by the signed checkpoint', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  await takeCheckpoint(pool, keys.activeSigner('audit'));
  // the attacker edits record 2 and recomputes its digest and every hash after it
  await tamper(pool, ...(await rewrittenFrom(pool, '2')).statements);
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [['AUDIT_CHECKPOINT_MISMATCH', '10']],
  );
});

test('a chain rewritten and checkpointed again by the running gateway is caught by the anchor it kept', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  const anchor = anchorFilePath();
  await takeCheckpoint(pool, keys.activeSigner('audit'), anchor); // at 10, anchored
  // the attacker rewrites record 2 and every hash after it, drops the checkpoint and points the head at the new
  // hash: the running gateway's checkpointer signs that head (it signs what it is given) and anchors it too
  const { statements, head } = await rewrittenFrom(pool, '2');
  statements.push(
    'delete from audit_checkpoints',
    `update audit_chain_head set hash = '\\x${head.toString('hex')}' where id`,
  );
  await tamper(pool, ...statements);
  t.truthy(await takeCheckpoint(pool, keys.activeSigner('audit'), anchor), 'the checkpointer signed the new head');
  t.deepEqual((await verifyWith(pool)).findings, [], 'the database alone looks intact');
  const report = await verifyWith(pool, anchor);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [
      ['AUDIT_ANCHOR_CONFLICT', '10'],
      ['AUDIT_CHECKPOINT_MISMATCH', '10'],
    ],
  );
});

test('a row placed before the chain (sequence number 0 or below) is AUDIT_RECORD_UNCHAINED', async (t) => {
  const pool = await chain(3);
  t.teardown(() => pool.end());
  await tamper(
    pool,
    `insert into audit_log (record_id, at, session_id, to_state, component, details, seq)
       select gen_random_uuid(), at, session_id, to_state, component, details, 0 from audit_log where seq = 1`,
  );
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => f.code),
    ['AUDIT_RECORD_UNCHAINED'],
  );
});

test('records removed at the end after a checkpoint are AUDIT_TAIL_TRUNCATED', async (t) => {
  const pool = await chain();
  t.teardown(() => pool.end());
  await takeCheckpoint(pool, keys.activeSigner('audit'));
  await tamper(pool, 'delete from audit_log where seq > 8');
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [['AUDIT_TAIL_TRUNCATED', '10']],
  );
});

test('a forged checkpoint signature is AUDIT_CHECKPOINT_SIGNATURE_INVALID', async (t) => {
  const pool = await chain(3);
  t.teardown(() => pool.end());
  await takeCheckpoint(pool, keys.activeSigner('audit'));
  await tamper(pool, "update audit_checkpoints set jws = regexp_replace(jws, '\\.[^.]+$', '.AAAA')");
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => f.code),
    ['AUDIT_CHECKPOINT_SIGNATURE_INVALID'],
  );
});

test('the CLI exits 0 on an intact chain and 3 with the findings on a tampered one', async (t) => {
  const pool = await chain(4);
  t.teardown(() => pool.end());
  const url = (pool as unknown as { options: { connectionString: string } }).options.connectionString;
  const anchor = anchorFilePath();
  await takeCheckpoint(pool, keys.activeSigner('audit'), anchor);
  const jwks = `${anchor}.jwks.json`;
  (await import('node:fs')).writeFileSync(jwks, JSON.stringify({ keys: trusted() }));
  const run = (args = ['--trusted-jwks', jwks, '--anchor', anchor]) =>
    spawnSync(process.execPath, ['gateway/audit/cli.ts', 'verify', ...args], {
      env: { ...process.env, GW_DATABASE_URL: url },
      encoding: 'utf8',
    });
  const noKeys = run(['--anchor', anchor]);
  t.is(noKeys.status, 2, 'trusted keys are mandatory');
  t.regex(noKeys.stderr, /AUDIT_TRUSTED_KEYS_REQUIRED/);
  t.regex(run(['--trusted-jwks', jwks]).stderr, /AUDIT_ANCHOR_REQUIRED/);
  t.is(run().status, 0);
  await tamper(pool, "update audit_log set component = 'x' where seq = 2");
  const tampered = run();
  t.is(tampered.status, 3);
  t.like(JSON.parse(tampered.stdout), { ok: false, findings: [{ code: 'AUDIT_RECORD_EDITED', at: '2' }] });
});

test('deleting the first records together with the checkpoints covering them is caught by the anchor (the chain cannot start anywhere)', async (t) => {
  const pool = await chain(10);
  t.teardown(() => pool.end());
  const anchor = anchorFilePath();
  const audit = new AuditLog(pool);
  await takeCheckpoint(pool, keys.activeSigner('audit'), anchor); // at 10
  await audit.append({ sessionId: 's', from: null, to: 'AUTHENTICATING', component: 'flow' });
  await takeCheckpoint(pool, keys.activeSigner('audit'), anchor); // at 11
  // the attacker removes records 1..10 and the checkpoint at 10: what remains starts at a database checkpoint
  await tamper(pool, 'delete from audit_log where seq <= 10', 'delete from audit_checkpoints where seq = 10');
  const withoutAnchor = await verifyAuditChain(pool, genesisOnly(trusted()));
  t.true(
    withoutAnchor.findings.some((f) => f.code === 'AUDIT_SEQ_GAP' && f.at === '11'),
    'a database checkpoint does not make a start',
  );
  const report = await verifyWith(pool, anchor);
  t.true(
    report.findings.some((f) => f.code === 'AUDIT_CHECKPOINT_MISSING' && f.at === '10'),
    JSON.stringify(report.findings),
  );
  t.false(report.ok);
});

test('a checkpoint re-signed by the attacker with the key stored beside it is AUDIT_CHECKPOINT_SIGNATURE_INVALID', async (t) => {
  const pool = await chain(3);
  t.teardown(() => pool.end());
  await takeCheckpoint(pool, keys.activeSigner('audit'));
  const attacker = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker', alg: 'ES384' };
  const { rows } = await pool.query('select seq::text as seq, hash from audit_checkpoints');
  const payload = JSON.stringify({ seq: rows[0].seq, hash: rows[0].hash.toString('base64url'), iat: 1 });
  const jws = await new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'ES384', kid: 'attacker' })
    .sign(attacker.privateKey);
  await tamper(
    pool,
    `update audit_checkpoints set jws = '${jws}', kid = 'attacker', public_jwk = '${JSON.stringify(jwk)}'::jsonb`,
  );
  const report = await verifyWith(pool);
  t.deepEqual(
    report.findings.map((f) => f.code),
    ['AUDIT_CHECKPOINT_SIGNATURE_INVALID'],
  );
});

test('a row without a chain position at an id the log never issues (0 or below) is AUDIT_RECORD_UNCHAINED', async (t) => {
  const pool = await chain(3);
  t.teardown(() => pool.end());
  // below the first chained id, where the rows written before the chain are: it would show first in s1's trail
  await tamper(
    pool,
    "insert into audit_log (id, session_id, to_state, component) values (-1, 's1', 'COMPLETED', 'oidc')",
  );
  const report = await verifyWith(pool);
  t.false(report.ok);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [['AUDIT_RECORD_UNCHAINED', 'id:-1']],
  );
});

test('the anchor records the rows written before the chain: a row without a position added among them since is AUDIT_RECORD_UNCHAINED', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  // two rows from before the chain (migration 0200), then the chain, anchored: its first line records the two
  await tamper(
    pool,
    "insert into audit_log (id, session_id, to_state, component) values (1, 'old', 'COMPLETED', 'oidc'), (3, 'old', 'COMPLETED', 'oidc')",
  );
  await pool.query("select setval(pg_get_serial_sequence('audit_log', 'id'), 10)");
  const audit = new AuditLog(pool);
  for (let i = 0; i < 3; i += 1) await audit.append({ sessionId: 's', from: null, to: 'INITIATED', component: 'flow' });
  const anchor = anchorFilePath();
  await takeCheckpoint(pool, keys.activeSigner('audit'), anchor);
  t.deepEqual(readAnchor(anchor).legacy, { count: 2, maxId: '3' });
  const clean = await verifyWith(pool, anchor);
  t.deepEqual(clean.findings, []);
  t.is(clean.legacyRecords, 2);
  // a forged row in the gap between the old ones: below the first chained id, a legacy record before
  await tamper(
    pool,
    "insert into audit_log (id, session_id, to_state, component) values (2, 's', 'COMPLETED', 'oidc')",
  );
  const report = await verifyWith(pool, anchor);
  t.false(report.ok);
  t.deepEqual(
    report.findings.map((f) => [f.code, f.at]),
    [['AUDIT_RECORD_UNCHAINED', 'legacy']],
  );
});
