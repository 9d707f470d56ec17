/**
 * One transaction of a revocation, as `SessionRevoker` writes it: tried {@link DURABLE_ATTEMPTS} times while the
 * failure may pass (PostgreSQL out of reach, a timeout, a deadlock), at once the caller's error when it cannot (a value
 * PostgreSQL refuses, a fault of ours). A wide scope is written transaction after transaction
 * (`revoke-transaction.ts` `REVOKE_BATCH`), each ending only sessions created before the revocation began (with a margin
 * for the fleet's clocks): one that keeps gaining sessions still ends.
 */
import type { DurableTier, RevocationScope, RevokeBatch, RevokeTarget, StoredRecord } from './durable-tier.ts';

/** Tries of a revocation's PostgreSQL transaction before the caller is told (then retried in the background). */
export const DURABLE_ATTEMPTS = 3;
const DURABLE_BACKOFF_MS = 50;

/**
 * How far past the revocation's start a session's creation (the clock of the gateway that made it) may be and still be
 * ended: a fleet's clocks differ by less.
 */
export const CREATED_MARGIN_MS = 5 * 60_000;

/**
 * Whether a revocation's failed write may succeed later: anything but a value PostgreSQL refuses (SQLSTATE classes 22,
 * data exception, e.g. a NUL in text, and 23, integrity) or a fault of ours (a TypeError, a RangeError), which fail
 * again at every try. An outage, a timeout, a deadlock, a table missing mid-migration are retried.
 */
export function retryable(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return false;
  const code = (error as { code?: unknown })?.code;
  return !(typeof code === 'string' && /^2[23]/.test(code));
}

/** What one transaction of a revocation writes (the arguments of `DurableTier.revoke`). */
export type RevocationWrite = RevokeTarget & { scope: RevocationScope; cut: RevokeBatch };

/** Writes one transaction; throws the last error once {@link retryable} says no, or the tries are spent. */
export async function writeRevocation(
  durable: Pick<DurableTier, 'revoke'>,
  write: RevocationWrite,
): Promise<{ id: string; records: StoredRecord[]; more: boolean }> {
  const { scope, match, target, actor, reason, revoke, notice, cut } = write;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await durable.revoke(scope, match, target, actor, reason, revoke, notice, cut);
    } catch (error) {
      if (attempt >= DURABLE_ATTEMPTS || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, DURABLE_BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
}
