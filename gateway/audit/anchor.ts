/**
 * The audit chain's anchor outside the database: an append-only JSON-lines file the operator keeps on
 * other storage (or ships off the host), holding the genesis of the chain and every signed checkpoint.
 *
 * - someone who controls the database can delete the first records together with the checkpoints that
 *   cover them, and the remaining chain still links up; the anchor still names those checkpoints, so
 *   `audit verify` reports them missing (`AUDIT_CHECKPOINT_MISSING`) and the chain must start at its genesis;
 * - someone who controls the database can also rewrite the chain consistently and point its head at the new hash:
 *   the running gateway's checkpointer then signs that head and anchors it. The lines anchored before still hold
 *   the old hashes, and `audit verify` compares each anchored hash with the chain (`AUDIT_CHECKPOINT_MISMATCH`,
 *   `AUDIT_ANCHOR_CONFLICT`). Only what was written after the last anchored checkpoint is not covered;
 * - each line is written with `O_APPEND` and fsync'd before the checkpoint counts as anchored;
 * - line 1: `{"genesis":"<base64url of the genesis hash>","created":"<iso>"}`; then one
 *   `{"seq","hash","kid","jws"}` per checkpoint.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { GENESIS_HASH } from './canonical.ts';
import { writeAll } from './spool.ts';

/** A checkpoint as anchored: what `audit verify` compares with the database. */
export interface AnchoredCheckpoint {
  seq: string;
  hash: string;
  kid: string;
  jws: string;
}

/**
 * The rows without a chain position when the anchor began (written before the chain existed, migration 0200): how many
 * and the highest id. A row without a position beyond them was put there since (`audit verify`).
 */
export interface LegacyExtent {
  count: number;
  maxId: string;
}

export interface Anchor {
  genesis: string;
  checkpoints: AnchoredCheckpoint[];
  /** Absent in an anchor begun before the thirty-seventh round. */
  legacy?: LegacyExtent;
}

function appendLine(file: string, value: unknown): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeAll(fd, `${JSON.stringify(value)}\n`); // all of the line, or a throw (spool.ts)
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends a checkpoint (creating the file with its genesis line first).
 *
 * @example
 * anchorCheckpoint('/srv/audit-anchor/gateway.jsonl', checkpoint);
 */
export function anchorCheckpoint(file: string, checkpoint: AnchoredCheckpoint, legacy?: LegacyExtent): void {
  if (!existsSync(file))
    appendLine(file, {
      genesis: GENESIS_HASH.toString('base64url'),
      created: new Date().toISOString(),
      ...(legacy === undefined ? {} : { legacy }),
    });
  appendLine(file, { seq: checkpoint.seq, hash: checkpoint.hash, kid: checkpoint.kid, jws: checkpoint.jws });
}

/** Reads an anchor file; a malformed line throws (an anchor that cannot be read proves nothing). */
export function readAnchor(file: string): Anchor {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const [first, ...rest] = lines.map((line, i) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`anchor ${file} line ${i + 1} is not JSON`);
    }
  });
  if (!first || typeof first.genesis !== 'string')
    throw new Error(`anchor ${file} does not start with its genesis line`);
  const checkpoints = rest.map((entry, i) => {
    if (
      typeof entry.seq !== 'string' ||
      typeof entry.hash !== 'string' ||
      typeof entry.kid !== 'string' ||
      typeof entry.jws !== 'string'
    ) {
      throw new Error(`anchor ${file} line ${i + 2} is not a checkpoint`);
    }
    return { seq: entry.seq, hash: entry.hash, kid: entry.kid, jws: entry.jws };
  });
  const legacy = first.legacy as Partial<LegacyExtent> | undefined;
  if (
    legacy !== undefined &&
    (typeof legacy !== 'object' ||
      legacy === null ||
      !Number.isSafeInteger(legacy.count) ||
      typeof legacy.maxId !== 'string' ||
      !/^-?\d{1,19}$/.test(legacy.maxId))
  )
    throw new Error(`anchor ${file} genesis line has a malformed legacy extent`);
  return { genesis: first.genesis, checkpoints, ...(legacy === undefined ? {} : { legacy: legacy as LegacyExtent }) };
}
