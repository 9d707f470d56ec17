/**
 * Signed checkpoints of the audit chain: the chain head (sequence number and hash) at a moment, as a
 * compact JWS made inside the HSM with the audit key (ES384 by default, `keys.activeSigner('audit')`).
 *
 * - a checkpoint pins everything before it: rewriting, inserting or deleting any earlier record changes the
 *   hash at that sequence number, which the signature no longer matches (`audit verify`);
 * - taking a checkpoint when nothing was written since the last one is a no-op;
 * - the JWS payload: `{ "seq": "<n>", "hash": "<base64url sha-256>", "iat": <seconds> }`, header `typ: audit-checkpoint+jws`;
 * - with an anchor file, each checkpoint is also appended there (outside the database: anchor.ts).
 */
import type { Pool } from 'pg';
import type { Signer } from '../../hsm/signer.ts';
import { existsSync } from 'node:fs';
import { anchorCheckpoint, type LegacyExtent } from './anchor.ts';

export interface Checkpoint {
  seq: string;
  hash: string;
  jws: string;
  kid: string;
}

const b64u = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/**
 * Signs the current chain head and stores the checkpoint. Returns it, or `null` when the chain is empty or
 * the head is already checkpointed.
 *
 * @example
 * const checkpoint = await takeCheckpoint(pool, services.keys.activeSigner('audit'));
 */
export async function takeCheckpoint(pool: Pool, signer: Signer, anchorFile?: string): Promise<Checkpoint | null> {
  const { rows } = await pool.query<{ seq: string; hash: Buffer }>(
    'select seq::text as seq, hash from audit_chain_head where id',
  );
  const head = rows[0];
  if (!head || head.seq === '0') return null;
  const done = await pool.query('select 1 from audit_checkpoints where seq = $1::bigint', [head.seq]);
  if (done.rowCount) return null;
  const header = { alg: signer.alg, kid: signer.kid, typ: 'audit-checkpoint+jws' };
  const payload = { seq: head.seq, hash: b64u(head.hash), iat: Math.floor(Date.now() / 1000) };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'));
  const jws = `${input}.${b64u(signature)}`;
  await pool.query(
    'insert into audit_checkpoints (seq, hash, kid, public_jwk, jws) values ($1::bigint, $2, $3, $4::jsonb, $5) on conflict (seq) do nothing',
    [head.seq, head.hash, signer.kid, JSON.stringify(signer.publicJwk), jws],
  );
  const checkpoint = { seq: head.seq, hash: payload.hash, jws, kid: signer.kid };
  if (anchorFile !== undefined)
    anchorCheckpoint(anchorFile, checkpoint, existsSync(anchorFile) ? undefined : await legacyExtent(pool));
  return checkpoint;
}

/** The rows written before the chain existed, recorded in the anchor's first line (anchor.ts `LegacyExtent`). */
async function legacyExtent(pool: Pool): Promise<LegacyExtent> {
  const { rows } = await pool.query<{ n: number; max: string }>(
    'select count(*)::int as n, coalesce(max(id), 0)::text as max from audit_log where seq is null',
  );
  return { count: rows[0]?.n ?? 0, maxId: rows[0]?.max ?? '0' };
}

/** Takes a checkpoint every `intervalMs` (errors go to `onError`; the next round retries). Returns a stop function. */
export function startCheckpointer(
  pool: Pool,
  signer: () => Signer,
  intervalMs: number,
  onError: (error: unknown) => void,
  anchorFile?: string,
): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = takeCheckpoint(pool, signer(), anchorFile)
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
