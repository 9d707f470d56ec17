/**
 * `audit verify`: walks the whole chain and says where it was tampered with.
 *
 * - each record's digest is recomputed from its columns (an edited record: `AUDIT_RECORD_EDITED`);
 * - sequence numbers must follow each other (a deleted record: `AUDIT_SEQ_GAP`), each record must chain to
 *   the one before (`AUDIT_CHAIN_BROKEN`: a record inserted or removed and the chain rewritten after it);
 * - a row without a chain position written after chaining began is an insertion (`AUDIT_RECORD_UNCHAINED`);
 * - each signed checkpoint must verify against the operator's trusted keys — never the key stored beside it
 *   (`AUDIT_CHECKPOINT_SIGNATURE_INVALID`) — and match the record at its sequence number
 *   (`AUDIT_CHECKPOINT_MISMATCH`); a checkpoint past the last record means records were removed at the end
 *   (`AUDIT_TAIL_TRUNCATED`);
 * - the chain starts at sequence 1 from the genesis hash, always (the log is never pruned: a chain starting later
 *   had its first records deleted, `AUDIT_SEQ_GAP`); every anchored checkpoint must still be in the database
 *   (`AUDIT_CHECKPOINT_MISSING`), and each anchored checkpoint's own hash, not only the database's copy, must match
 *   the record at its sequence number: a chain rewritten and checkpointed again (the running checkpointer signs the
 *   head it is given) differs from what the anchor recorded before (`AUDIT_CHECKPOINT_MISMATCH`); two anchor lines
 *   naming one sequence number with different hashes are `AUDIT_ANCHOR_CONFLICT`;
 * - a row at a sequence number of 0 or below is no part of the chain (`AUDIT_RECORD_UNCHAINED`).
 */
import { RECORD_COLUMNS, recordOfRow, type RecordRow } from './record-row.ts';
import { compactVerify, importJWK, type JWK } from 'jose';
import type { Pool } from 'pg';
import type { Anchor } from './anchor.ts';
import { chainHash, GENESIS_HASH, recordDigest } from './canonical.ts';

export type TamperCode =
  | 'AUDIT_RECORD_EDITED'
  | 'AUDIT_SEQ_GAP'
  | 'AUDIT_CHAIN_BROKEN'
  | 'AUDIT_RECORD_UNCHAINED'
  | 'AUDIT_CHECKPOINT_MISMATCH'
  | 'AUDIT_CHECKPOINT_SIGNATURE_INVALID'
  | 'AUDIT_TAIL_TRUNCATED'
  | 'AUDIT_CHECKPOINT_MISSING'
  | 'AUDIT_ANCHOR_CONFLICT'
  | 'AUDIT_GENESIS_MISMATCH';

export interface TamperFinding {
  code: TamperCode;
  /** The sequence number (or row id for unchained rows) where it was found. */
  at: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  checkpoints: number;
  /** Rows written before the chain existed (migration 0200): not covered. */
  legacyRecords: number;
  findings: TamperFinding[];
}

interface Row extends RecordRow {
  id: string;
  seq: string;
  digest: Buffer | null;
  prev_hash: Buffer | null;
  hash: Buffer | null;
}

const BATCH = 5_000;

/**
 * Verifies the chain and the checkpoints. `trustedKeys`: the audit public keys to accept (by kid); without
 * them each checkpoint is checked against the key stored with it (which proves integrity, not origin).
 *
 * @example
 * const report = await verifyAuditChain(pool);
 * if (!report.ok) console.log(report.findings); // [{ code: 'AUDIT_RECORD_EDITED', at: '42', ... }]
 */
export async function verifyAuditChain(
  pool: Pool,
  options: { trustedKeys: JWK[]; anchor: Anchor },
): Promise<VerifyReport> {
  const findings: TamperFinding[] = [];
  const hashes = new Map<string, Buffer>();
  if (options.anchor.genesis !== GENESIS_HASH.toString('base64url')) {
    findings.push({
      code: 'AUDIT_GENESIS_MISMATCH',
      at: '0',
      detail: 'the anchor names another genesis than this chain format',
    });
  }
  const { rows: stored } = await pool.query<{ seq: string; hash: Buffer; jws: string; kid: string }>(
    'select seq::text as seq, hash, jws, kid from audit_checkpoints order by audit_checkpoints.seq',
  );
  // anchored checkpoints that the database lost were deleted with what they covered
  const storedSeqs = new Set(stored.map((c) => c.seq));
  for (const anchored of options.anchor.checkpoints) {
    if (!storedSeqs.has(anchored.seq))
      findings.push({
        code: 'AUDIT_CHECKPOINT_MISSING',
        at: anchored.seq,
        detail: 'the anchor names this checkpoint; the database no longer has it',
      });
  }
  // one sequence number anchored twice with different hashes: the chain was rewritten and checkpointed again
  const anchoredHash = new Map<string, string>();
  for (const anchored of options.anchor.checkpoints) {
    const before = anchoredHash.get(anchored.seq);
    if (before !== undefined && before !== anchored.hash)
      findings.push({
        code: 'AUDIT_ANCHOR_CONFLICT',
        at: anchored.seq,
        detail: 'the anchor names this checkpoint twice, with different hashes',
      });
    anchoredHash.set(anchored.seq, anchored.hash);
  }
  // the database's checkpoints and every anchored one, each checked on its own (an anchored checkpoint the database
  // also holds is checked with the anchor's hash too: the database's copy may have been signed again since)
  const storedHash = new Map(stored.map((c) => [c.seq, c.hash.toString('base64url')]));
  const cps = [
    ...stored,
    ...options.anchor.checkpoints
      .filter((a) => storedHash.get(a.seq) !== a.hash)
      .map((a) => ({ seq: a.seq, hash: Buffer.from(a.hash, 'base64url'), jws: a.jws, kid: a.kid })),
  ];
  const wanted = new Set(cps.map((c) => c.seq));
  let prev: Buffer | null = null;
  let expectedSeq: bigint | null = null;
  let records = 0;
  let after = 0n;
  let firstChainedId: string | null = null;
  for (;;) {
    const { rows } = await pool.query<Row>(
      `select id::text as id, seq::text as seq, ${RECORD_COLUMNS}, digest, prev_hash, hash from audit_log where seq > $1::bigint order by audit_log.seq limit ${BATCH}`,
      [after.toString()],
    );
    for (const row of rows) {
      records += 1;
      firstChainedId ??= row.id;
      const seq = BigInt(row.seq);
      if (expectedSeq === null) {
        // only the genesis starts the chain (the log is never pruned; a checkpoint, anchored or not, is no start)
        if (seq !== 1n)
          findings.push({ code: 'AUDIT_SEQ_GAP', at: row.seq, detail: `chain starts at ${row.seq}, not 1` });
        prev = seq === 1n ? GENESIS_HASH : row.prev_hash;
      } else if (seq !== expectedSeq) {
        findings.push({
          code: 'AUDIT_SEQ_GAP',
          at: row.seq,
          detail: `records ${expectedSeq}..${seq - 1n} are missing`,
        });
      }
      const digest = recordDigest(recordOfRow(row));
      if (!row.digest || !digest.equals(row.digest)) {
        findings.push({
          code: 'AUDIT_RECORD_EDITED',
          at: row.seq,
          detail: `record ${row.record_id} does not match its digest`,
        });
      }
      if (
        !row.prev_hash ||
        !prev ||
        !row.prev_hash.equals(prev) ||
        !row.hash ||
        !row.digest ||
        !chainHash(row.prev_hash, row.digest).equals(row.hash)
      ) {
        findings.push({
          code: 'AUDIT_CHAIN_BROKEN',
          at: row.seq,
          detail: 'the record does not chain to the one before it',
        });
      }
      if (wanted.has(row.seq) && row.hash) hashes.set(row.seq, row.hash);
      prev = row.hash;
      expectedSeq = seq + 1n;
      after = seq;
    }
    if (rows.length < BATCH) break;
  }
  const { rows: loose } = await pool.query<{ id: string }>(
    'select id::text as id from audit_log where seq is null and id > $1::bigint order by id limit 100',
    [firstChainedId ?? '0'],
  );
  for (const row of loose)
    findings.push({ code: 'AUDIT_RECORD_UNCHAINED', at: `id:${row.id}`, detail: 'a row without a chain position' });
  const { rows: belowOne } = await pool.query<{ id: string }>(
    'select id::text as id from audit_log where seq <= 0 order by id limit 100',
  );
  for (const row of belowOne)
    findings.push({
      code: 'AUDIT_RECORD_UNCHAINED',
      at: `id:${row.id}`,
      detail: 'a row at a position before the chain',
    });
  // a row at an id the log never issues (its ids start at 1), or beyond the rows the anchor found without a position
  // when it began: put there since, whatever its place among the ids (it would show first in a login's trail)
  const { rows: outside } = await pool.query<{ id: string }>(
    'select id::text as id from audit_log where seq is null and (id <= 0 or id > $1::bigint) order by id limit 100',
    [options.anchor.legacy?.maxId ?? '9223372036854775807'],
  );
  for (const row of outside)
    if (!loose.some((l) => l.id === row.id))
      findings.push({ code: 'AUDIT_RECORD_UNCHAINED', at: `id:${row.id}`, detail: 'a row without a chain position' });
  const { rows: legacy } = await pool.query<{ n: number }>(
    'select count(*)::int as n from audit_log where seq is null and id < $1::bigint',
    [firstChainedId ?? '9223372036854775807'],
  );
  const legacyCount = legacy[0]?.n ?? 0;
  if (options.anchor.legacy !== undefined && legacyCount > options.anchor.legacy.count)
    findings.push({
      code: 'AUDIT_RECORD_UNCHAINED',
      at: 'legacy',
      detail: `${legacyCount} rows before the chain without a position; the anchor found ${options.anchor.legacy.count}`,
    });
  const trusted = new Map(options.trustedKeys.map((k) => [String(k.kid), k]));
  for (const cp of cps) {
    const key = trusted.get(cp.kid);
    try {
      if (!key) throw new Error(`kid ${cp.kid} is not a trusted audit key`);
      const { payload } = await compactVerify(cp.jws, await importJWK(key, String(key.alg ?? 'ES384')));
      const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as { seq: string; hash: string };
      if (claims.seq !== cp.seq || claims.hash !== cp.hash.toString('base64url'))
        throw new Error('payload differs from the stored checkpoint');
    } catch (error) {
      findings.push({ code: 'AUDIT_CHECKPOINT_SIGNATURE_INVALID', at: cp.seq, detail: (error as Error).message });
      continue;
    }
    const seen = hashes.get(cp.seq);
    if (!seen) {
      if (expectedSeq === null || BigInt(cp.seq) >= expectedSeq)
        findings.push({
          code: 'AUDIT_TAIL_TRUNCATED',
          at: cp.seq,
          detail: `the checkpoint covers ${cp.seq} records; the log ends before`,
        });
      else
        findings.push({ code: 'AUDIT_CHECKPOINT_MISMATCH', at: cp.seq, detail: 'the checkpointed record is missing' });
    } else if (!seen.equals(cp.hash)) {
      findings.push({
        code: 'AUDIT_CHECKPOINT_MISMATCH',
        at: cp.seq,
        detail: 'the chain was rewritten before this checkpoint',
      });
    }
  }
  return {
    ok: findings.length === 0,
    records,
    checkpoints: new Set(cps.map((c) => c.seq)).size,
    legacyRecords: legacyCount,
    findings,
  };
}
